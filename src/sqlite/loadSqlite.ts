/// <reference types="wa-sqlite" preserve="true" />
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Script, constants } from 'node:vm';

/** The parts of the wa-sqlite Emscripten module the adapter uses beyond `SQLiteAPI`. */
export interface WaSqliteModule {
  _sqlite3_malloc(bytes: number): number;
  lengthBytesUTF8(text: string): number;
  stringToUTF8(text: string, at: number, maxBytes: number): void;
}

/** One instance of SQLite compiled to WebAssembly, and its JavaScript API. */
export interface SqliteRuntime {
  readonly sqlite3: SQLiteAPI;
  readonly module: WaSqliteModule;
}

/**
 * `import()` through Node's own loader. wa-sqlite ships ES modules only, and
 * this package compiles to CommonJS, where tsc turns a plain `import()` into
 * `require()`; built from a string, the call stays an `import()`. Code run in
 * a vm context without a loader of its own (a test runner's) cannot import
 * that way, and gets a script compiled with the main context's loader instead.
 */
async function importModule(specifier: string): Promise<unknown> {
  try {
    return await (new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>)(specifier);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') throw error;
    const script = new Script('(specifier) => import(specifier)', { importModuleDynamically: constants.USE_MAIN_CONTEXT_DEFAULT_LOADER });
    return (script.runInThisContext() as (specifier: string) => Promise<unknown>)(specifier);
  }
}

let runtime: Promise<SqliteRuntime> | undefined;

/**
 * The synchronous build of wa-sqlite, instantiated once per thread (each
 * worker thread loads its own). Databases opened in one thread share it; each
 * registers a VFS of its own.
 */
export function loadSqlite(): Promise<SqliteRuntime> {
  runtime ??= instantiate().catch((error: unknown) => {
    runtime = undefined;
    throw error;
  });
  return runtime;
}

async function instantiate(): Promise<SqliteRuntime> {
  const url = (specifier: string) => pathToFileURL(require.resolve(specifier)).href;
  const [{ default: factory }, api] = (await Promise.all([importModule(url('wa-sqlite/dist/wa-sqlite.mjs')), importModule(url('wa-sqlite'))])) as [
    { default: (config: { wasmBinary: Uint8Array }) => Promise<WaSqliteModule> },
    { Factory: (module: WaSqliteModule) => SQLiteAPI },
  ];
  // The build fetches its .wasm by URL; in Node it is handed the bytes.
  const module = await factory({ wasmBinary: readFileSync(require.resolve('wa-sqlite/dist/wa-sqlite.wasm')) });
  return { module, sqlite3: api.Factory(module) };
}
