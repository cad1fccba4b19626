import { serve } from './serve.js';

const usage = `Usage: imgsense <command> [options]

Commands:
  serve                         start the HTTP server (configuration: docs/configuration.md)
  process <in> -o <out> [ops]   process a file, or every image in a folder (imgsense process --help)
  info <file> [--json]          describe an image
  models list|prepare           the recognition models: what is installed, convert them to ONNX
  detect <file|dir> [--draw f]  COCO objects in images (imgsense detect --help)
  labels <file|dir>             labels for whole images
  moderate <file|dir>           Pass / Review / Block with the nsfw scores
`;

export async function runCli(argv: string[]): Promise<number | undefined> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      await serve();
      return undefined;
    case 'process':
      return (await import('./process.js')).processCommand(rest);
    case 'info':
      return (await import('./info.js')).infoCommand(rest);
    case 'models':
      return (await import('./models.js')).modelsCommand(rest);
    case 'detect':
    case 'labels':
    case 'moderate':
      return (await import('./recognize.js')).recognizeCommand(command, rest);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(usage);
      return 0;
    default:
      process.stderr.write(`imgsense: unknown command ${JSON.stringify(command)}\n\n${usage}`);
      return 2;
  }
}
