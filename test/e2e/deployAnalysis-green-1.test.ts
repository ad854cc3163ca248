// Issue 10 §4, first proof, A for seeds 1–5 (scenarios in test/helpers/deployAnalysisScenarios.ts; seeds 6–10 in
// deployAnalysis-green-2): 10 % transient faults on the scoring front door, staging then production green; and the
// front door marks who answered.
import { describe } from 'node:test';
import { frontDoorSuite, scenarioA, useScenarioBox } from '../helpers/deployAnalysisScenarios';

useScenarioBox();
frontDoorSuite();
describe('errors are not failures (issue 10 §4)', () => { scenarioA([1, 2, 3, 4, 5]); });
