/** The benchmarks' command-line options, all spelled `--name=value`. */

/** The value of `--name=value`, or undefined when it is not given. */
export function textOption(name: string, argv: readonly string[] = process.argv.slice(2)): string | undefined {
  const prefix = `--${name}=`;
  return argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
}

/** A numeric `--name=value`, or `fallback` when it is not given. */
export function numberOption(name: string, fallback: number, argv?: readonly string[]): number {
  return Number(textOption(name, argv) ?? fallback);
}
