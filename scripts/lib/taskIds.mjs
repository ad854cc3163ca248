// Task ids of a packaged copy. Azure DevOps keys an installed task by its task.json `id` across the whole
// organisation: a second extension carrying a task with an id already there fails to install ("A task definition
// with id … has already been uploaded"). So a copy packaged under another publisher or extension id (a fork, or a
// second copy for testing) gets task ids of its own, derived deterministically from its identity; the copy published
// under HOME keeps the ids written in tasks/*/task.json. Contribution ids are not touched: they are scoped to the
// extension already (publisher.extension.contribution).
//
// Derivation: UUID version 5 (RFC 4122 §4.3, SHA-1 name-based) in the RFC 4122 URL namespace
// (6ba7b811-9dad-11d1-80b4-00c04fd430c8) of the name
//   https://marketplace.visualstudio.com/items?itemName=<publisher>.<extension id>#<task name>
// with publisher and extension id lower-cased (the Marketplace treats them case-insensitively) and the task.json
// `name` as written (one id per task across its major versions, as the task folders V1, V2… share it).
import { createHash } from 'node:crypto';

/** The identity the ids in the tasks/<folder>/task.json files belong to. A copy under any other publisher or extension id is a fork. */
export const HOME_IDENTITY = Object.freeze({ publisher: 'your-publisher', extensionId: 'azureml-mlops' });

/** RFC 4122 NameSpace_URL */
export const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/** UUID v5 of `name` in `namespace` (RFC 4122 §4.3), lower-case hyphenated. */
export function uuidV5(namespace, name) {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new Error(`uuidV5: namespace ${namespace} is not a UUID`);
  const h = createHash('sha1').update(ns).update(Buffer.from(name, 'utf8')).digest().subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x50; // version 5
  h[8] = (h[8] & 0x3f) | 0x80; // RFC 4122 variant
  const x = h.toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

export function isHome(publisher, extensionId) {
  return (
    publisher.toLowerCase() === HOME_IDENTITY.publisher.toLowerCase() &&
    extensionId.toLowerCase() === HOME_IDENTITY.extensionId.toLowerCase()
  );
}

/** The id task `taskName` gets in the copy published as `publisher`.`extensionId` (see the header). */
export function forkTaskId(publisher, extensionId, taskName) {
  return uuidV5(
    URL_NAMESPACE,
    `https://marketplace.visualstudio.com/items?itemName=${publisher.toLowerCase()}.${extensionId.toLowerCase()}#${taskName}`,
  );
}

/**
 * Source task id (lower-case) → the id in the copy `publisher`.`extensionId`: identity for HOME, derived otherwise.
 * `tasks`: [{ id, name }] from the task.json files.
 */
export function taskIdMap(tasks, publisher, extensionId) {
  const home = isHome(publisher, extensionId);
  return new Map(
    tasks.map((t) => [String(t.id).toLowerCase(), home ? t.id : forkTaskId(publisher, extensionId, t.name)]),
  );
}

/** A copy of JSON value `v` with every string equal (case-insensitively) to a mapped task id replaced by its new id. */
export function replaceTaskIds(v, map) {
  if (typeof v === 'string') return map.get(v.toLowerCase()) ?? v;
  if (Array.isArray(v)) return v.map((x) => replaceTaskIds(x, map));
  if (v && typeof v === 'object')
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, replaceTaskIds(x, map)]));
  return v;
}
