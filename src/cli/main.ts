#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCompare } from './commands/compare';
import { registerInspect } from './commands/inspect';
import { registerRestore } from './commands/restore';
import { registerRun } from './commands/run';
import { registerSimulate } from './commands/simulate';
import { registerSqliteExport } from './commands/sqliteExport';
import { registerVerify } from './commands/verify';
import { USAGE_EXIT_CODE, usageHint } from './usage';

/**
 * The `bgsnap` command line. Each subcommand lives in its own file under
 * `commands/` and registers itself; this file only wires them and maps
 * outcomes to exit codes: 0 done, 1 a runtime failure, 2 a usage error.
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
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
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
