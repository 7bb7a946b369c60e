/**
 * Prints the ten slowest test files after every jest run (npm test, .ci/run), so a suite that
 * grows slow shows in the log that made it slow, not in a later budget overrun. Also written to
 * test-reports/slowest-suites.txt, and every file's time to test-reports/suite-times.txt (to compare
 * two runs file by file). Wall time per file includes waiting for a worker's CPU, so
 * compare runs on the same machine and load.
 */
const fs = require('node:fs');
const path = require('node:path');

class SlowestSuitesReporter {
  constructor(globalConfig, options = {}) {
    this.rootDir = globalConfig.rootDir;
    this.count = options.count ?? 10;
  }

  onRunComplete(_contexts, results) {
    const suites = results.testResults
      .map((r) => ({
        seconds: (r.perfStats.end - r.perfStats.start) / 1000,
        tests: r.numPassingTests + r.numFailingTests + r.numPendingTests,
        file: path.relative(this.rootDir, r.testFilePath),
      }))
      .sort((a, b) => b.seconds - a.seconds || a.file.localeCompare(b.file));
    if (suites.length === 0) return;
    const total = suites.reduce((sum, s) => sum + s.seconds, 0);
    const wall = (Date.now() - results.startTime) / 1000;
    const lines = [
      `Slowest ${Math.min(this.count, suites.length)} of ${suites.length} test files (sum of file times ${total.toFixed(1)} s, run ${wall.toFixed(1)} s):`,
      ...suites.slice(0, this.count).map((s) => `  ${s.seconds.toFixed(1).padStart(6)} s  ${String(s.tests).padStart(4)} tests  ${s.file}`),
    ];
    const text = `${lines.join('\n')}\n`;
    process.stderr.write(`\n${text}`);
    try {
      fs.mkdirSync(path.join(this.rootDir, 'test-reports'), { recursive: true });
      fs.writeFileSync(path.join(this.rootDir, 'test-reports', 'slowest-suites.txt'), text);
      fs.writeFileSync(path.join(this.rootDir, 'test-reports', 'suite-times.txt'),
        suites.map((s) => `${s.seconds.toFixed(2)} ${s.tests} ${s.file}`).join('\n') + '\n');
    } catch {
      // the printout above is what CI keeps
    }
  }
}

module.exports = SlowestSuitesReporter;
