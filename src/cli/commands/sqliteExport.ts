import { statSync } from 'node:fs';
import type { SnapshotLocation } from '../../format/ByteSource';
import type { Command } from 'commander';
import { FileExistsError, FormatError, OptionError } from '../../errors';
import { exportSqliteFiles, type SqliteExport } from '../../sqlite/exportFiles';
import { DEFAULT_SQLITE_BLOCKS } from '../../sqlite/layout';
import { invalidLink, OutputExistsError } from '../errors';
import { checkParentFolder, endpointOption, snapshotInputs } from '../files';
import { print } from '../output';
import { withCancelSignals } from '../signals';
import { usageError } from '../usage';

/** The options as commander parses them. */
interface SqliteExportFlags {
  readonly name: string;
  readonly force?: boolean;
  readonly dbBlock: string;
  readonly journalBlock: string;
  readonly metaBlock: string;
  readonly json?: boolean;
  readonly endpoint?: string;
}

/** Library option names, as `OptionError` reports them, and the flags that set them. */
const FLAGS: Record<string, string> = {
  name: '--name',
  'blocks.db': '--db-block',
  'blocks.journal': '--journal-block',
  'blocks.meta': '--meta-block',
};

/** Adds `bgsnap sqlite-export FILE... DIR` to `program`. */
export function registerSqliteExport(program: Command): Command {
  return program
    .command('sqlite-export')
    .summary('Turn a snapshot of a bgsnap/sqlite database into files sqlite3 opens')
    .description(
      'Turn a snapshot of a bgsnap/sqlite database into the files SQLite keeps on disk: <name>.db, and <name>.db-journal ' +
        'when a transaction was writing at t0. The stock sqlite3 opens them and rolls the journal back, giving the database ' +
        'as of the last transaction committed before t0. Given a chain (base first, then its incremental links), the database at the newest ' +
        "link's t0. The files are checked as they are read; nothing is left in DIR unless they are intact (and one chain).",
    )
    .usage('[options] <file...> <dir>')
    .argument('<file-and-dir...>', 'the snapshot file, or the files of a chain, base first; then the folder for the files (created if missing, in a folder that exists)')
    .option('--name <name>', 'base name of the files', 'db')
    .option('--force', 'replace existing files of those names')
    .option('--db-block <name>', 'block holding the database file', DEFAULT_SQLITE_BLOCKS.db)
    .option('--journal-block <name>', 'block holding the rollback journal', DEFAULT_SQLITE_BLOCKS.journal)
    .option('--meta-block <name>', 'block holding the file sizes', DEFAULT_SQLITE_BLOCKS.meta)
    .option('--json', 'print what was written as JSON')
    .addOption(endpointOption())
    .action((args: string[], flags: SqliteExportFlags, command: Command) => {
      if (args.length < 2) usageError(command, "missing required argument 'dir'");
      return run(args.slice(0, -1), args[args.length - 1] as string, flags, command);
    });
}

async function run(files: readonly string[], dir: string, flags: SqliteExportFlags, command: Command): Promise<void> {
  // Step 1: a snapshot that is not a file, and an output folder that cannot be one, are usage errors.
  const inputs = await snapshotInputs(files, command, flags.endpoint);
  const locations = inputs.map((input) => input.location);
  const file = files.length === 1 ? (files[0] as string) : files;
  const existing = statSync(dir, { throwIfNoEntry: false });
  if (existing?.isDirectory() === false) usageError(command, `argument 'dir': ${JSON.stringify(dir)} is a file, expected a folder`);
  if (existing === undefined) checkParentFolder(dir, 'dir', command);

  // Step 2: export, stopped and cleaned up by Ctrl-C. An unusable name is a usage error, named by its flag;
  // a damaged snapshot is reported with its path; anything else fails the run.
  let result: SqliteExport;
  try {
    result = await withCancelSignals((signal) =>
      exportSqliteFiles(locations.length === 1 ? (locations[0] as SnapshotLocation) : locations, dir, {
        name: flags.name,
        overwrite: flags.force ?? false,
        blocks: { db: flags.dbBlock, journal: flags.journalBlock, meta: flags.metaBlock },
        signal,
      }),
    );
  } catch (error) {
    if (error instanceof OptionError) {
      usageError(command, `option '${FLAGS[error.option] ?? error.option}': expected ${error.expected}, got ${JSON.stringify(error.received)}`);
    }
    if (error instanceof FileExistsError) throw new OutputExistsError(error.path);
    if (error instanceof FormatError) throw await invalidLink(files, error, `nothing was written to ${JSON.stringify(dir)}`);
    throw error;
  }
  print(flags.json ? JSON.stringify({ file, ...result }, null, 2) : describe(result));
}

function describe({ db, journal }: SqliteExport): string {
  const lines = [`wrote ${JSON.stringify(db.path)}: ${db.bytes} bytes`];
  lines.push(
    journal === undefined
      ? 'no transaction was writing at t0: no journal'
      : `wrote ${JSON.stringify(journal.path)}: ${journal.bytes} bytes; a transaction was writing at t0, and sqlite3 rolls it back on open`,
  );
  return lines.join('\n');
}
