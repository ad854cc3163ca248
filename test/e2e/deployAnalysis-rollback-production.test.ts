// Issue 10 §4, first proof, B in production (scenarios in test/helpers/deployAnalysisScenarios.ts): a deployment that really
// fails ~10 % of its requests, under 10 % transient front-door faults, is rolled back 10 of 10 with a failed verdict.
import { describe } from 'node:test';
import { scenarioB, useScenarioBox } from '../helpers/deployAnalysisScenarios';

useScenarioBox();
describe('errors are not failures (issue 10 §4)', () => { scenarioB('production'); });
