import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from '../../src/errors/app-error.js';
import {
  classifyAddress,
  compileAllowList,
  describeAddress,
  firstRefused,
  formatIp,
  isAddressAllowed,
  isHostAllowed,
  parseIp,
  type AddressClass,
} from '../../src/net/address-policy.js';

const REFUSED: readonly (readonly [string, AddressClass])[] = [
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['::1', 'loopback'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['::', 'unspecified'],
  ['10.0.0.5', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.1.1', 'private'],
  ['fc00::1', 'private'],
  ['fd12:3456::1', 'private'],
  ['fec0::1', 'private'],
  ['64:ff9b:1::a', 'private'],
  ['169.254.0.1', 'link-local'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['100.64.0.1', 'carrier-grade NAT'],
  ['100.127.255.255', 'carrier-grade NAT'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['ff02::1', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['192.0.0.8', 'reserved'],
  ['192.88.99.1', 'reserved'],
  ['100::1', 'reserved'],
  ['2001::1', 'reserved'], // Teredo
  ['5f00::1', 'reserved'],
  ['1::1', 'reserved'], // outside 2000::/3
  ['::8.8.8.8', 'reserved'], // deprecated IPv4-compatible, even with a public v4 inside
  ['255.255.255.255', 'broadcast'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['2001:2::1', 'benchmarking'],
  ['192.0.2.1', 'documentation'],
  ['198.51.100.1', 'documentation'],
  ['203.0.113.1', 'documentation'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['169.254.169.254', 'cloud metadata'],
  ['169.254.170.2', 'cloud metadata'],
  ['100.100.100.200', 'cloud metadata'],
  ['168.63.129.16', 'cloud metadata'],
  ['fd00:ec2::254', 'cloud metadata'],
  // IPv6 forms that carry an IPv4 address are judged by that address
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['0:0:0:0:0:ffff:a00:5', 'private'],
  ['::ffff:169.254.169.254', 'cloud metadata'],
  ['::ffff:0:10.0.0.5', 'private'], // IPv4-translated
  ['::127.0.0.1', 'loopback'], // IPv4-compatible
  ['64:ff9b::127.0.0.1', 'loopback'], // NAT64
  ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
  ['2002:7f00:1::1', 'loopback'], // 6to4
  ['2002:c0a8:101::', 'private'],
  ['2002:a9fe:a9fe::1', 'cloud metadata'],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '93.184.216.34', '172.32.0.1', '100.128.0.1', '223.255.255.255', '2606:4700:4700::1111', '2a00:1450::1', '::ffff:8.8.8.8', '64:ff9b::808:808', '2002:808:808::1'];

test('every refused range is classified with its name', () => {
  for (const [address, cls] of REFUSED) {
    assert.equal(classifyAddress(address).cls, cls, address);
    assert.notEqual(firstRefused(compileAllowList([]), 'host.test', [address]), undefined, address);
  }
});

test('public addresses pass', () => {
  for (const address of PUBLIC) {
    assert.equal(classifyAddress(address).cls, 'public', address);
    assert.equal(firstRefused(compileAllowList([]), 'host.test', [address]), undefined, address);
  }
});

test('unparseable addresses are refused', () => {
  for (const address of ['', 'localhost', '1.2.3', '999.1.1.1', '::g', '0x7f.1']) assert.equal(classifyAddress(address).cls, 'reserved', address);
});

test('descriptions name the class, the address and any embedded IPv4', () => {
  assert.equal(describeAddress('10.0.0.5'), 'a private address (10.0.0.5)');
  assert.equal(describeAddress('::'), 'an unspecified address (::)');
  assert.equal(describeAddress('::ffff:7f00:1'), 'a loopback address (::ffff:7f00:1, which embeds 127.0.0.1)');
});

test('parseIp / formatIp round trip', () => {
  for (const [text, out] of [
    ['::', '::'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['10.1.2.3', '10.1.2.3'],
  ] as const) {
    const ip = parseIp(text);
    assert.ok(ip, text);
    assert.equal(formatIp(ip), out);
  }
  assert.equal(parseIp('0177.0.0.1'), undefined); // only canonical dotted decimal; URL parsing normalises the rest
});

test('odd IPv4 spellings in URLs normalise to an address that is then refused', () => {
  const spellings: readonly (readonly [string, string])[] = [
    ['http://2130706433/', '127.0.0.1'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['http://0177.0.0.1/', '127.0.0.1'],
    ['http://127.1/', '127.0.0.1'],
    ['http://0x7f000001/', '127.0.0.1'],
    ['http://0/', '0.0.0.0'],
    ['http://%31%32%37.0.0.1/', '127.0.0.1'],
    ['http://１２７.０.０.１/', '127.0.0.1'],
    ['http://0xa9.0xfe.0xa9.0xfe/', '169.254.169.254'],
    ['http://167772165/', '10.0.0.5'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://[0:0:0:0:0:ffff:a9fe:a9fe]/', '::ffff:a9fe:a9fe'],
  ];
  for (const [url, host] of spellings) {
    const hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
    assert.equal(hostname, host, url);
    assert.notEqual(classifyAddress(hostname).cls, 'public', url);
  }
});

test('allow-list: host names are exact and case-insensitive', () => {
  const list = compileAllowList(['Images.Internal.', ' cdn.test ', '']);
  assert.ok(isHostAllowed(list, 'images.internal'));
  assert.ok(isHostAllowed(list, 'IMAGES.INTERNAL.'));
  assert.ok(isHostAllowed(list, 'cdn.test'));
  assert.ok(!isHostAllowed(list, 'x.images.internal'));
  assert.ok(!isHostAllowed(list, 'images.internal.evil.test'));
  assert.equal(firstRefused(list, 'images.internal', ['10.0.0.5', '127.0.0.1']), undefined);
  assert.match(firstRefused(list, 'other.test', ['10.0.0.5']) ?? '', /private address \(10\.0\.0\.5\)/);
});

test('allow-list: IP literals and CIDRs', () => {
  const list = compileAllowList(['127.0.0.0/8', '::1/128', '10.0.0.5', '[fd00::7]', '192.168.0.0/16', '127.1']);
  for (const a of ['127.0.0.1', '127.9.9.9', '::1', '10.0.0.5', 'fd00::7', '192.168.44.1', '::ffff:127.0.0.1']) {
    assert.ok(isAddressAllowed(list, a), a);
  }
  for (const a of ['10.0.0.6', '::2', 'fd00::8', '172.16.0.1', '128.0.0.1']) assert.ok(!isAddressAllowed(list, a), a);
  assert.equal(firstRefused(list, 'h.test', ['127.0.0.1', '10.0.0.5']), undefined);
  // ANY refused address that is not allow-listed refuses the host
  assert.match(firstRefused(list, 'h.test', ['127.0.0.1', '169.254.169.254']) ?? '', /cloud metadata/);
  const narrow = compileAllowList(['127.0.0.1/32']);
  assert.ok(isAddressAllowed(narrow, '127.0.0.1'));
  assert.ok(!isAddressAllowed(narrow, '127.0.0.2'));
  assert.ok(isAddressAllowed(compileAllowList(['10.1.2.3/8']), '10.200.0.1')); // host bits are masked
});

test('allow-list: bad entries are rejected with InvalidParameterValue naming allowHosts', () => {
  for (const entry of ['10.0.0.0/33', '::1/129', '10.0.0.0/x', 'host.test:8080', 'http://host.test/', 'a b', '*.test', 'user@host']) {
    assert.throws(
      () => compileAllowList([entry]),
      (err: unknown) => err instanceof AppError && err.code === 'InvalidParameterValue' && /for allowHosts but received/.test(err.message),
      entry,
    );
  }
});
