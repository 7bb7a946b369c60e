// A consumer's CDK app, run by consumer-matrix.ts inside a fresh npm project that installed the
// packed library next to one aws-cdk-lib and one cdk-nag major. Plain JavaScript on purpose: the
// same file runs against every aws-cdk-lib in the matrix without a TypeScript build per cell.
// It prints one JSON line (the last line of stdout) that the matrix asserts on.
'use strict';
const cdk = require('aws-cdk-lib');
const s3 = require('aws-cdk-lib/aws-s3');
const iam = require('aws-cdk-lib/aws-iam');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const nag = require('cdk-nag');
const { AepS3Destination, AepS3Source, AepSandbox, S3DestinationAuth, S3SourceAuth } = require('cdk-aep-s3');

const NAG_MAJOR = Number(require('cdk-nag/package.json').version.split('.')[0]);
const env = { account: '123456789012', region: 'us-east-1' };
let apps = 0;
/** Each app synthesizes into its own directory of this consumer project. */
const newApp = () => new cdk.App({ outdir: `cdk.out/app-${++apps}` });

/** The user's own resources: acknowledged the way the README tells users to, per cdk-nag major. */
function userBucket(stack) {
  const bucket = new s3.Bucket(stack, 'UserExports', {
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    versioned: true,
  });
  const reason = 'Export bucket: access is logged by CloudTrail data events in the org trail.';
  if (NAG_MAJOR >= 3) {
    cdk.Validations.of(bucket).acknowledge({ id: 'AwsSolutions-S1', reason });
  } else {
    nag.NagSuppressions.addResourceSuppressions(bucket, [{ id: 'AwsSolutions-S1', reason }]);
  }
  return bucket;
}

/** The IMS org of the credential: the assumed-role destination's trust requires it as sts:ExternalId. */
const IMS_ORG_ID = 'ACME0123456789ABCDEF@AdobeOrg';

/** Every destination and source auth mode, with a token folder path in some of each. */
function libraryStack(app) {
  const stack = new cdk.Stack(app, 'Library', { env });
  const sandbox = new AepSandbox({
    credentials: secretsmanager.Secret.fromSecretNameV2(stack, 'AepCredentials', 'aep/oauth-server-to-server'),
    sandboxName: 'prod',
    imsOrgId: IMS_ORG_ID,
  });
  const owned = userBucket(stack);
  const imported = s3.Bucket.fromBucketName(stack, 'Imported', 'acme-data-lake');
  const destFolder = new cdk.CfnParameter(stack, 'DestinationFolder', { type: 'String', default: 'aep/role/%SEGMENT_ID%' });
  const srcFolder = new cdk.CfnParameter(stack, 'SourceFolder', { type: 'String', default: 'landing/role' });

  new AepS3Destination(stack, 'DestAccessKey', { sandbox, bucket: owned, folderPath: 'aep/keys/%SEGMENT_NAME%', auth: S3DestinationAuth.accessKey() });
  new AepS3Destination(stack, 'DestAssumedRole', { sandbox, bucket: owned, folderPath: destFolder.valueAsString, auth: S3DestinationAuth.assumedRole() });
  new AepS3Destination(stack, 'DestOwnKey', {
    sandbox,
    bucket: imported,
    folderPath: 'aep/datasets',
    auth: S3DestinationAuth.accessKeyFromSecret(secretsmanager.Secret.fromSecretNameV2(stack, 'TeamKey', 'team/aep-key'), {
      user: iam.User.fromUserName(stack, 'TeamUser', 'aep-writer'),
      changeToken: 'v1',
    }),
  });
  new AepS3Source(stack, 'SrcAccessKey', { sandbox, bucket: imported, folderPath: 'landing/keys', auth: S3SourceAuth.accessKey() });
  new AepS3Source(stack, 'SrcSessionToken', { sandbox, bucket: imported, folderPath: 'landing/sessions', auth: S3SourceAuth.accessKey({ sessionToken: {} }) });
  new AepS3Source(stack, 'SrcIamRole', { sandbox, bucket: owned, folderPath: srcFolder.valueAsString, auth: S3SourceAuth.iamRole() });
  return stack;
}

/** A stack with a plainly non-compliant bucket: proves the checks report at all in this cell. */
function canaryStack(app) {
  const stack = new cdk.Stack(app, 'Canary', { env });
  new s3.Bucket(stack, 'Unsafe');
  return stack;
}

/** cdk-nag 2: an Aspect; findings are error/warning annotations in the cloud assembly. */
function findingsV2(build) {
  const app = newApp();
  build(app);
  cdk.Aspects.of(app).add(new nag.AwsSolutionsChecks());
  const assembly = app.synth();
  const findings = [];
  for (const stack of assembly.stacks) {
    for (const m of stack.messages) {
      const text = String(m.entry.data);
      if ((m.level === 'error' || m.level === 'warning') && text.startsWith('AwsSolutions-')) {
        findings.push({ rule: text.split(': ')[0], path: m.id });
      }
    }
  }
  return { findings };
}

/**
 * cdk-nag 3: a policy validation plugin, registered as its README says; synth fails on any
 * violation. The findings are listed from the same pack afterwards, once synthesis has run the
 * aspects (as the validation plugin sees the tree).
 */
function findingsV3(build) {
  const app = newApp();
  build(app);
  const pack = new nag.AwsSolutionsChecks(app);
  cdk.Validations.of(app).addPlugins(pack);
  let synthError;
  try {
    app.synth();
  } catch (e) {
    synthError = String((e && e.message) || e).split('\n')[0];
  }
  const report = pack.validateScope(app);
  const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => ({ rule: v.ruleName, path: `/${r.constructPath}` })));
  return { findings, synthError };
}

const check = NAG_MAJOR >= 3 ? findingsV3 : findingsV2;
const library = check(libraryStack);
const canary = check(canaryStack);

// Token folder paths: the template (no checks registered) references each parameter.
const plain = newApp();
libraryStack(plain);
const libraryResources = plain.synth().getStackByName('Library').template.Resources;
const resources = JSON.stringify(libraryResources);
/** The trust conditions of every role Adobe's destinations account may assume (the assumed-role destination's). */
const adobeTrusts = Object.values(libraryResources)
  .filter((r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes(':670664943635:'))
  .map((r) => r.Properties.AssumeRolePolicyDocument.Statement.map((st) => st.Condition ?? null));
const tokenRefs = {
  DestinationFolder: (resources.match(/\{"Ref":"DestinationFolder"\}/g) || []).length,
  SourceFolder: (resources.match(/\{"Ref":"SourceFolder"\}/g) || []).length,
};

/** Where each package was loaded from: the matrix asserts it is this app's own node_modules. */
const resolved = {};
for (const pkg of ['aws-cdk-lib', 'constructs', 'cdk-nag', 'cdk-aep-s3']) {
  const main = require('fs').realpathSync(require.resolve(pkg));
  const marker = `${require('path').sep}node_modules${require('path').sep}${pkg}${require('path').sep}`;
  resolved[pkg] = main.slice(0, main.lastIndexOf(marker) + marker.length);
}
// The library's own aws-cdk-lib is the app's (a peer dependency, one construct tree).
resolved['aws-cdk-lib (from cdk-aep-s3)'] = require('fs').realpathSync(require.resolve('aws-cdk-lib', { paths: [resolved['cdk-aep-s3']] }));

console.log(JSON.stringify({
  resolved,
  awsCdkLib: require('aws-cdk-lib/package.json').version,
  cdkNag: require('cdk-nag/package.json').version,
  libraryFindings: library.findings,
  librarySynthError: library.synthError,
  canaryFindings: canary.findings.length,
  tokenRefs,
  imsOrgId: IMS_ORG_ID,
  adobeTrusts,
}));
