import type { FormatError } from '../errors';

/** Writes `text` and a newline to standard output: a command's answer (its report or JSON). */
export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A problem in a snapshot file as `--json` prints it. */
export interface ProblemJson {
  /** Byte offset, from the start of the file, where the problem starts. */
  readonly offset: number;
  readonly expected: string;
  readonly found: string;
  readonly message: string;
}

/** A FormatError as `--json` prints it. */
export function problemJson(problem: FormatError): ProblemJson {
  return { offset: problem.offset, expected: problem.expected, found: problem.found, message: problem.message };
}
