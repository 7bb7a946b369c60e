/**
 * jest's module runtime, plus V8's code cache per worker process. jest compiles every module again
 * for every test file (each file gets a fresh module registry and context), and with the
 * `importModuleDynamically` hook jest passes, Node 20 does not reuse earlier compiles of the same
 * source, so aws-cdk-lib, the stand-ins and src/ were parsed from scratch ~95 times a run. Here a
 * module's compile in a later test file of the same worker (or again in the same file, after
 * jest.resetModules or in jest.isolateModules) consumes V8's code cache of it, made after the module
 * first ran: besides the parse, V8's lazy compile of each function called then is skipped too (a
 * cache made at compile time holds only the top level). The same source gives the
 * same function. A rejected cache (V8 or flag mismatch) compiles as before. And the text of each
 * file under node_modules is read once per worker (see sharingInstalledSources).
 */
const path = require('node:path');
const vm = require('node:vm');
const Runtime = require('jest-runtime').default;

/**
 * filename -> the source compiled, and V8's cache of it (one worker process); `script` until the
 * cache is made, at the teardown of the test file that first compiled it.
 */
const codeCache = new Map();

/** filename -> source text of each installed package file read so far (one worker process). */
const installedSources = new Map();
const INSTALLED = `${path.sep}node_modules${path.sep}`;

/**
 * The runtime's map of file texts, with files under node_modules read once per worker, not once per
 * test file. jest reads and decodes every module's file again for each test file (aws-cdk-lib's
 * hundreds per file); installed packages do not change while jest runs (jest's haste map does not
 * watch them either; an `npm install` during an in-band `--watch` session needs a restart of it).
 * The repository's own files stay per test file, as jest keeps them.
 */
function sharingInstalledSources(local) {
  const shared = (filename) => filename.includes(INSTALLED);
  return {
    get: (filename) => (shared(filename) ? installedSources : local).get(filename),
    has: (filename) => (shared(filename) ? installedSources : local).has(filename),
    set(filename, text) {
      (shared(filename) ? installedSources : local).set(filename, text);
      return this;
    },
    delete: (filename) => local.delete(filename),
    clear: () => local.clear(),
  };
}

/** Makes the entry's code cache from its script, now that the module has run, and drops the script. */
function seal(entry) {
  if (!entry.script) return;
  entry.data = entry.script.createCachedData();
  entry.script = undefined;
}

class CodeCachingRuntime extends Runtime {
  constructor(...args) {
    super(...args);
    // jest 30 keeps file texts in `fileCache.strings`; an older or newer shape is left alone.
    if (this.fileCache && this.fileCache.strings instanceof Map) {
      this.fileCache.strings = sharingInstalledSources(this.fileCache.strings);
    }
    // V8 coverage reports offsets in the text V8 compiled, which jest takes for the module's own:
    // the function wrapper below would shift them. jest compiles as it does then.
    const coverage = this._coverageOptions;
    if (coverage && coverage.collectCoverage && coverage.coverageProvider === 'v8') return;
    // jest 30 compiles in its (internal) module executor; without one, jest's compile is used as is.
    const executor = this.executor;
    if (!executor || typeof executor.compile !== 'function') return;
    const compile = executor.compile.bind(executor);
    /** Entries this runtime (one test file) added, sealed at its teardown. */
    this.newEntries = [];
    executor.compile = (scriptSource, filename) => {
      const vmContext = executor.environment.getVmContext();
      if (vmContext == null || executor.resolution.isCoreModule(filename)) return compile(scriptSource, filename);
      let entry = codeCache.get(filename);
      if (entry && entry.source !== scriptSource) entry = undefined; // changed text: compiled afresh
      if (entry) seal(entry); // normally sealed already, at the teardown of the file that added it
      // The function jest would compile, as a script: its opening on a line of its own, so line
      // numbers (lineOffset) and columns are the file's own. (A text closing the function early
      // would compile here where jest refuses it; no transform output does.)
      const wrapped = `(function (${executor.injectedModuleParameters.join(', ')}) {\n${scriptSource}\n})`;
      let script;
      try {
        script = new vm.Script(wrapped, {
          filename,
          lineOffset: -1,
          cachedData: entry && entry.data,
          importModuleDynamically: (specifier, _script, importAttributes, ...rest) =>
            executor.dynamicImport(specifier, filename, vmContext, importAttributes, rest[0]),
        });
      } catch {
        return compile(scriptSource, filename); // jest's own report of the syntax error
      }
      if (script.cachedDataRejected) {
        codeCache.delete(filename);
      } else if (!entry) {
        const added = { source: scriptSource, script, data: undefined };
        codeCache.set(filename, added);
        this.newEntries.push(added);
      }
      return script.runInContext(vmContext);
    };
  }

  /**
   * The modules this test file compiled first have run (its tests included): their caches now
   * hold every function V8 compiled meanwhile. Sealing here also lets go of the scripts, whose
   * dynamic-import hook holds this file's context.
   */
  teardown() {
    for (const entry of this.newEntries || []) seal(entry);
    this.newEntries = [];
    return super.teardown();
  }
}

module.exports = CodeCachingRuntime;
module.exports.sharingInstalledSources = sharingInstalledSources;
