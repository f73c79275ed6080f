/** `--name N` on a bench script's command line (`npm run bench:x -- --rounds 8`), or `fallback`. */
export function numberFlag(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? Number(args[index + 1]) : fallback;
}
