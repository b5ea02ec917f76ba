import type { Command } from 'commander';

/** Exit code of a usage error: a bad flag, value or combination. */
export const USAGE_EXIT_CODE = 2;

/**
 * Reports a usage error the way commander reports its own: the one-line
 * reason, then the command's usage, then exit code 2 (through the program's
 * exit override).
 */
export function usageError(command: Command, reason: string): never {
  return command.error(`error: ${reason}`, { exitCode: USAGE_EXIT_CODE, code: 'bgsnap.usage' });
}

/** The usage lines shown after an error of `command`: its usage and where the options are. */
export function usageHint(command: Command): string {
  const path: string[] = [];
  for (let c: Command | null = command; c !== null; c = c.parent) path.unshift(c.name());
  const name = path.join(' ');
  return `Usage: ${name} ${command.usage()}\nRun '${name} --help' for the options.`;
}
