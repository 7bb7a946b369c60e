import * as path from 'path';
import { measureColdRequire } from '../../offline-world/cold-start';

// No timing is asserted (the machine's load would decide the outcome); what is asserted is what
// the cold require loads, which decides the timing everywhere.
test('requiring the bundled handler loads no AWS SDK client: STS and Secrets Manager load when first needed', () => {
  const result = measureColdRequire(path.join(__dirname, '../../assets/handler/aep.lambda/index.js'), { runs: 1 });
  expect(result.sdkPackagesAtRequire).toEqual([]);
  expect(result.bundleMs).toBeGreaterThan(0);
  expect(result.baselineMs).toBeGreaterThan(0);
});
