import * as fs from 'fs';
import * as path from 'path';

/**
 * What users read outside a clone: the README on the npm page and the API docs (API.md, the
 * `.d.ts` comments compiled from src/). Relative links break on npm, and citations of internal
 * notes point at a document users never see.
 */
const root = path.resolve(__dirname, '../..');
const REPO_BLOB = 'https://github.com/cdk-aep-s3/cdk-aep-s3/blob/main/';
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');

/** GitHub's heading anchor: lowercase, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
}

describe('README links', () => {
  const links = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]);
  const anchors = new Set([...readme.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1])));

  test('the README has links to check', () => {
    expect(links.length).toBeGreaterThan(10);
  });

  test('every link is an in-page anchor or an absolute https URL', () => {
    expect(links.filter((l) => !l.startsWith('#') && !l.startsWith('https://'))).toEqual([]);
  });

  test('every in-page anchor names a heading', () => {
    expect(links.filter((l) => l.startsWith('#') && !anchors.has(l.slice(1)))).toEqual([]);
  });

  test('every repository link names a file that exists in the repository', () => {
    const repoFiles = links.filter((l) => l.startsWith(REPO_BLOB)).map((l) => l.slice(REPO_BLOB.length).split('#')[0]);
    expect(repoFiles.length).toBeGreaterThan(0);
    expect(repoFiles.filter((f) => !fs.existsSync(path.join(root, f)))).toEqual([]);
  });

  test('"Try it offline" says it needs a clone', () => {
    const section = readme.slice(readme.indexOf('**Try it offline'), readme.indexOf('## Contents'));
    expect(section).toMatch(/clone/);
    expect(section).toContain('git clone https://github.com/cdk-aep-s3/cdk-aep-s3.git');
  });
});

describe('API docs state facts, not internal note sections', () => {
  /** Runtime layers that ship only inside the bundles, without comments (the package ignores their lib/ output). */
  const BUNDLED_ONLY = new Set(['handler', 'cli', 'aep', 'aws', 'plumbing', 'decisions']);
  /** Library code that ships as .js/.d.ts. */
  function shippedSources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) return dir.endsWith('src') && BUNDLED_ONLY.has(e.name) ? [] : shippedSources(p);
      return p.endsWith('.ts') ? [p] : [];
    });
  }

  test.each(['API.md', 'README.md', ...shippedSources(path.join(root, 'src')).map((p) => path.relative(root, p))])(
    '%s cites no API-NOTES section', (file) => {
      const text = fs.readFileSync(path.join(root, file), 'utf8');
      expect(text).not.toMatch(/API-NOTES/);
    });
});
