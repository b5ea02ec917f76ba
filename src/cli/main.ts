#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCompare } from './commands/compare';
import { registerInspect } from './commands/inspect';
import { registerMerge } from './commands/merge';
import { registerRestore } from './commands/restore';
import { registerRun } from './commands/run';
import { registerSimulate } from './commands/simulate';
import { registerSqliteExport } from './commands/sqliteExport';
import { registerVerify } from './commands/verify';
import { CancelledError } from './errors';
import { describeSystemError } from './files';
import { USAGE_EXIT_CODE, usageHint } from './usage';

/**
 * The `bgsnap` command line. Each subcommand lives in its own file under
 * `commands/` and registers itself; this file only wires them and maps
 * outcomes to exit codes: 0 done, 1 a runtime failure, 2 a usage error,
 * 128 + the signal's number when cancelled by one (130 for Ctrl-C, 143 for
 * SIGTERM), as shells report a command killed by it.
 */
export function buildProgram(): Command {
  const program = new Command('bgsnap')
    .description('Background snapshots of live paged memory')
    .version(packageVersion())
    // Set before the subcommands are added, so they inherit both.
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerRun(program);
  registerCompare(program);
  registerSimulate(program);
  registerVerify(program);
  registerInspect(program);
  registerRestore(program);
  registerMerge(program);
  registerSqliteExport(program);
  // After an error: the reason (one line, from commander or `usageError`), then the usage.
  program.showHelpAfterError(usageHint(program));
  for (const command of program.commands) command.showHelpAfterError(usageHint(command));
  return program;
}

/** Runs the command line; resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv]);
    return 0;
  } catch (error) {
    // Commander has printed its message already: help and version end well, the rest are usage errors.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
    const message = describeSystemError(error) ?? (error instanceof Error ? error.message : String(error));
    process.stderr.write(`error: ${message}\n`);
    return error instanceof CancelledError ? signalExitCode(error.signal) : 1;
  }
}

/** The exit code of a command cancelled by `signal`: 128 + its number (130 for SIGINT). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 2);
}

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
