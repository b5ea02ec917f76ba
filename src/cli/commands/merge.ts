import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { FileExistsError, FormatError } from '../../errors';
import { merge, type MergeReport } from '../../format/merge';
import { formatBytes } from '../../sim/format';
import { invalidLink, OutputExistsError } from '../errors';
import { checkFilePath, checkInputFile } from '../files';
import { print } from '../output';
import { usageError } from '../usage';

interface MergeFlags {
  readonly out: string;
  readonly force?: boolean;
  readonly json?: boolean;
}

/** Adds `bgsnap merge FILE... --out FULL` to `program`. */
export function registerMerge(program: Command): Command {
  return program
    .command('merge')
    .summary('Merge a chain of snapshot files into one full snapshot file')
    .description(
      'Merge a chain (base first: a full snapshot, then its incremental children in order) into one full snapshot file: ' +
        "the memory at the newest link's t0, each page from the newest link that holds it, with a new id. The chain rules and " +
        'every link are checked first; the output is streamed (memory bounded whatever the size), synced, verified, and only then ' +
        'given its name: a bad chain leaves nothing under it. --out <file> (required) names the output; its folder must exist.',
    )
    .usage('<file...> --out <file> [options]')
    .argument('<file...>', 'the files of the chain, base first')
    .addOption(new Option('--out <file>', 'the full snapshot file to write (required)').makeOptionMandatory().hideHelp())
    .option('--force', 'replace the output file if it exists')
    .option('--json', 'print what was written as JSON')
    .action((files: string[], flags: MergeFlags, command: Command) => run(files, flags, command));
}

async function run(files: readonly string[], flags: MergeFlags, command: Command): Promise<void> {
  // Step 1: inputs that are not files, and an output that cannot be one or is one of them, are usage errors.
  const out = flags.out;
  for (const file of files) checkInputFile(file, command);
  checkFilePath(out, '--out <file>', command);
  const target = statSync(out, { throwIfNoEntry: false });
  for (const file of files) {
    const source = statSync(file);
    if (resolve(out) === resolve(file) || (target !== undefined && source.ino === target.ino && source.dev === target.dev)) {
      usageError(command, `option '--out <file>': ${JSON.stringify(out)} is a file of the chain; name another file`);
    }
  }
  // Step 2: the merge. A bad link is named with its path; a bad chain by its ChainError.
  let report: MergeReport;
  try {
    report = await merge(files, out, { overwrite: flags.force ?? false });
  } catch (error) {
    if (error instanceof FileExistsError) throw new OutputExistsError(error.path);
    if (error instanceof FormatError) throw await invalidLink(files, error, `nothing was written to ${JSON.stringify(out)}`);
    throw error;
  }
  print(flags.json ? JSON.stringify(mergeJson(files, report), null, 2) : describe(files, report));
}

function describe(files: readonly string[], r: MergeReport): string {
  const { pageSize } = r.header;
  return [
    `merged ${files.length} file${files.length === 1 ? '' : 's'} into ${JSON.stringify(r.path)}: a full snapshot (id ${r.header.identity?.id}), ` +
      `${r.pages} pages of ${formatBytes(pageSize)} (${formatBytes(r.pages * pageSize)}), ${r.zeroPages} of them zero, in ${r.records} records; ` +
      `${r.bytes} bytes (${formatBytes(r.bytes)}), verified`,
    ...r.links.map((l, i) => `  link ${i} ${JSON.stringify(l.path)}: ${l.pages} pages`),
  ].join('\n');
}

function mergeJson(files: readonly string[], r: MergeReport) {
  return {
    files,
    out: r.path,
    id: r.header.identity?.id ?? null,
    t0: r.header.t0,
    wallTime: r.header.wallTime,
    bytes: r.bytes,
    pageSize: r.header.pageSize,
    records: r.records,
    pages: r.pages,
    zeroPages: r.zeroPages,
    links: r.links,
  };
}
