import { loadConfig } from '../config/env.js';
import { listModels, prepareModels } from '../inference/index.js';

const usage = `Usage: imgsense models list [--json]
       imgsense models prepare [id ...]

list      every model the server can run: task, source package and file, licence, and once prepared the
          converted .onnx file with its sha256, inputs and outputs
prepare   converts the given models (default: all) from the TF.js files shipped in npm packages to ONNX under
          <IMGSENSE_DATA_DIR>/models; nothing is downloaded. The server also converts on first use.
`;

export async function modelsCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const config = loadConfig();
  if (sub === 'list') {
    const rows = listModels(config.dataDir);
    if (rest.includes('--json')) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    for (const r of rows) {
      process.stdout.write(`${r.id.padEnd(22)} ${r.task.padEnd(18)} ${r.onnx ? 'prepared' : 'not prepared'}  ${r.source.package}/${r.source.file}\n`);
    }
    return 0;
  }
  if (sub === 'prepare') {
    let failed = 0;
    for await (const r of prepareModels(config.dataDir, rest.filter((a) => !a.startsWith('-')))) {
      if (r.error) {
        failed++;
        process.stderr.write(`imgsense: ${r.id}: ${r.error}\n`);
      } else {
        process.stdout.write(`${r.id}: ${r.onnx} (${r.seconds.toFixed(1)} s)\n`);
      }
    }
    return failed ? 1 : 0;
  }
  process.stdout.write(usage);
  return sub === undefined || sub === '--help' || sub === 'help' ? 0 : 2;
}
