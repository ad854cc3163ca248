// Issue 10 §4, first proof (scenarios in test/helpers/deployAnalysisScenarios.ts): with 10 % transient faults on the
// scoring front door, the demo's staging and production deploys are green 10 of 10 (A); a deployment that really fails
// ~10 % of its requests is rolled back 10 of 10 in each stage, with a failed verdict (B). The front door marks who
// answered. The seeds run side by side in endpoint lanes (LANES), each endpoint with its own seeded faults.
import { describe } from 'node:test';
import { frontDoorSuite, scenarioA, scenarioB, useScenarioBox } from '../helpers/deployAnalysisScenarios';

useScenarioBox();
frontDoorSuite();
describe('errors are not failures (issue 10 §4)', () => {
  scenarioA();
  scenarioB();
});
