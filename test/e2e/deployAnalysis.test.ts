// Issue 10 §4, first proof (scenarios in test/helpers/deployAnalysisScenarios.ts): the front door marks who answered;
// A: 10 % transient faults on the scoring front door, staging then production green for 10 of 10 seeds.
import { describe } from 'node:test';
import { frontDoorSuite, scenarioA, scenarioB, useScenarioBox } from '../helpers/deployAnalysisScenarios';

useScenarioBox();
frontDoorSuite();
describe('errors are not failures (issue 10 §4)', () => { scenarioA(); });
