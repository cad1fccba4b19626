export async function processCommand(_argv: string[]): Promise<number> {
  return 1;
}
