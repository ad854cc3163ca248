// task-lib logs the value of many reads at debug level (`##vso[task.debug]name=value`), secrets included.
// Reads of secrets go through quietly(), which points task-lib's output at a sink for the duration of the call.
import { Writable } from 'node:stream';
import * as task from 'azure-pipelines-task-lib/task';

const sink = new Writable({
  write(_chunk, _enc, cb) {
    cb();
  },
});

export function quietly<T>(read: () => T): T {
  task.setStdStream(sink);
  try {
    return read();
  } finally {
    task.setStdStream(process.stdout);
  }
}
