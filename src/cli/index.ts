import { serve } from './serve.js';

const usage = `Usage: imgsense <command> [options]

Commands:
  serve                         start the HTTP server (configuration: docs/configuration.md)
  process <in> -o <out> [ops]   process a file, or every image in a folder (imgsense process --help)
  info <file> [--json]          describe an image
  models list|prepare           the recognition models: what is installed, convert them to ONNX
  apps|keys|token               apps, key pairs and access tokens (imgsense apps --help)
  usage [--from] [--to] [--group-by day,action,app] [--app id] [--csv]   usage records (imgsense usage --help)
  bill <YYYY-MM> [--app id]     itemised monthly bills from usage and the price table
  faces detect <file|dir>       faces, landmarks and attributes (imgsense faces --help)
  segment <in> -o <out>         portrait segmentation: cutout, mask, blur or replace the background
  detect <file|dir> [--draw f]  COCO objects in images (imgsense detect --help)
  labels <file|dir>             labels for whole images
  moderate <file|dir>           Pass / Review / Block with the nsfw scores
  upscale <in> -o <out>         ESRGAN super-resolution x2/x3/x4 with a progress bar (imgsense upscale --help)
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
    case 'apps':
    case 'keys':
    case 'token':
      return (await import('./accounts.js')).accountsCommand(command, rest);
    case 'usage':
      return (await import('./usage.js')).usageCommand(rest);
    case 'bill':
      return (await import('./usage.js')).billCommand(rest);
    case 'faces':
      return (await import('./faces.js')).facesCommand(rest);
    case 'segment':
      return (await import('./segment.js')).segmentCommand(rest);
    case 'detect':
    case 'labels':
    case 'moderate':
      return (await import('./recognize.js')).recognizeCommand(command, rest);
    case 'upscale':
      return (await import('./upscale.js')).upscaleCommand(rest);
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
