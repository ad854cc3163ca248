// Azure ML access for the tasks. Other areas (jobs, endpoints, mlflow, download) add their own files and export lines.
export * from './workspace';
export * from './context';
export * from './errors';
export * from './arm';
export * from './storage';
export * from './models';
export * from './jobs';
export * from './mlflow';
export * from './jobResolver';
export * from './metrics';
