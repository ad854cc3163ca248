// Issue 10 §4, first proof, A for seeds 6–10 (scenarios in test/helpers/deployAnalysisScenarios.ts; seeds 1–5 in
// deployAnalysis-green-1): 10 % transient faults on the scoring front door, staging then production green.
import { describe } from 'node:test';
import { scenarioA, useScenarioBox } from '../helpers/deployAnalysisScenarios';

useScenarioBox();
describe('errors are not failures (issue 10 §4)', () => { scenarioA([6, 7, 8, 9, 10]); });
