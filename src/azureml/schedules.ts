// Azure ML schedules through raw ARM REST at 2024-04-01: the 2.1.1 SDK (2022-10-01) has no `CreateMonitor` action
// (2024-04-01 mfe.json: Schedules_Get / Schedules_CreateOrUpdate, CreateMonitorAction; the copy in
// test/fixtures/third-party/azure-rest-api-specs/2024-04-01, provenance in that folder's README).
import type { AzureMLContext } from './context';
import { armGetOptional, armRequest } from './arm';
import { wsPath } from './workspace';

export const SCHEDULE_API_VERSION = '2024-04-01';

export interface ScheduleResource {
  id?: string;
  name?: string;
  properties: Record<string, any>;
}

const path = (name: string) => `/schedules/${encodeURIComponent(name)}`;

/** GET a schedule at 2024-04-01; undefined when it does not exist. */
export function getSchedule(ctx: AzureMLContext, name: string): Promise<ScheduleResource | undefined> {
  return armGetOptional<ScheduleResource>(ctx, wsPath(ctx.ws, path(name)), {
    apiVersion: SCHEDULE_API_VERSION,
    what: `schedule '${name}'`,
  });
}

/** PUT a schedule at 2024-04-01 (create or replace). */
export function putSchedule(ctx: AzureMLContext, name: string, body: ScheduleResource): Promise<ScheduleResource> {
  return armRequest<ScheduleResource>(ctx, 'PUT', wsPath(ctx.ws, path(name)), body, {
    apiVersion: SCHEDULE_API_VERSION,
    what: `schedule '${name}'`,
  });
}
