import * as fs from 'fs';
import * as path from 'path';

/** The README's install lines name each package exactly as package.json's jsii targets publish it. */
const root = path.resolve(__dirname, '../..');
const readme = fs.readFileSync(path.join(root, 'README.md'), 'utf8');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const targets = pkg.jsii.targets;
const install = readme.slice(readme.indexOf('## Install'), readme.indexOf('## Minimal example'));

test('every jsii target has an install line', () => {
  expect(Object.keys(targets).sort()).toEqual(['dotnet', 'go', 'java', 'python']);
  expect(install).toContain(`npm install ${pkg.name}`);
  expect(install).toContain(`pip install ${targets.python.distName}`);
  expect(install).toContain(`module \`${targets.python.module}\``);
  expect(install).toContain(`<groupId>${targets.java.maven.groupId}</groupId><artifactId>${targets.java.maven.artifactId}</artifactId>`);
  expect(install).toContain(`package \`${targets.java.package}\``);
  expect(install).toContain(`dotnet add package ${targets.dotnet.packageId}`);
  expect(install).toContain(`namespace \`${targets.dotnet.namespace}\``);
  expect(install).toContain(`go get ${targets.go.moduleName}/${targets.go.packageName}`);
});

test('it says the cdk-aep-s3 command needs Node.js, whatever the language', () => {
  expect(install).toMatch(/`cdk-aep-s3` command \(`doctor`, `plan`\) is a Node\.js script too\s+and needs Node\.js/);
});
