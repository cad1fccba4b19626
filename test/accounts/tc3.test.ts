import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalRequest, parseTc3Authorization, sha256Hex, stringToSign, tc3Signature, utcDate } from '../../src/services/accounts/tc3.js';

// The worked example of Tencent Cloud's "Signature v3" document (CVM DescribeInstances, timestamp 1551113065).
const example = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3EXAMPLE',
  payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
  authorization: 'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
};

test('reproduces every intermediate value of Tencent\'s published signing example', () => {
  assert.equal(sha256Hex(example.payload), '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
  const canonical = canonicalRequest({
    method: 'POST', path: '/', query: '', signedHeaders: ['content-type', 'host'],
    headers: { 'content-type': 'application/json; charset=utf-8', host: 'cvm.tencentcloudapi.com' },
    payloadHash: sha256Hex(example.payload),
  });
  assert.equal(canonical, 'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064');
  assert.equal(utcDate(1551113065), '2019-02-25');
  const toSign = stringToSign(1551113065, '2019-02-25', 'cvm', canonical);
  assert.equal(toSign, 'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031');
  const parsed = parseTc3Authorization(example.authorization);
  assert.deepEqual(parsed, {
    secretId: example.secretId, date: '2019-02-25', service: 'cvm', signedHeaders: ['content-type', 'host'],
    signature: '72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168',
  });
  assert.equal(tc3Signature(example.secretKey, '2019-02-25', 'cvm', toSign), parsed!.signature);
  assert.notEqual(tc3Signature(`${example.secretKey}x`, '2019-02-25', 'cvm', toSign), parsed!.signature);
});

test('malformed Authorization headers are not parsed', () => {
  for (const h of ['Bearer abc', 'TC3-HMAC-SHA256 Credential=x', 'TC3-HMAC-SHA256 Credential=A/2019-02-25/cvm/tc3_request, SignedHeaders=host, Signature=zz']) {
    assert.equal(parseTc3Authorization(h), undefined, h);
  }
});
