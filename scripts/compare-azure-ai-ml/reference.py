#!/usr/bin/python3
# Reference side of scripts/compare-azure-ai-ml.ts (dev-only, not part of npm test): the request bodies Microsoft's
# azure-ai-ml builds for az ml YAML files, with Debian's snapshot (python3-azure 20230112+git-1 → azure-ai-ml 1.4.0).
#
#   PYTHONPATH=scripts/compare-azure-ai-ml/shim /usr/bin/python3 scripts/compare-azure-ai-ml/reference.py <corpus-copy> <rel.yml>...
#
# <corpus-copy> is a scratch copy of test/fixtures/third-party/azureml-examples/cli: the corpus does not carry the code
# folders, model files and conda files its YAML points at, and azure-ai-ml's schemas insist they exist, so every missing
# local path is created there as an empty placeholder (a minimal conda file for conda_file). Prints one JSON object:
# { "<rel.yml>": { "kind", "body": <serialized REST object> | "error": "...", "overrides": [{key: value}] } }.
#
# Which call builds each body (what `az ml … create` sends after resolving references):
#   jobs            load_job(f)._to_rest_object().serialize()                      (JobBase, 2022-10-01-preview models)
#   online endpoint load_online_endpoint(f)._to_rest_online_endpoint(location)     (2022-02-01-preview models)
#   online deploy.  load_online_deployment(f)._to_rest_object(location=location)   (2022-02-01-preview models)
#   batch           load_batch_endpoint / load_batch_deployment → _to_rest_object  (shown; our tasks refuse batch)
# The CLI resolves code/environment/model/compute references to ARM ids before these calls (operations classes); this
# script does not (no workspace): references stay as written, and the TypeScript side normalises both.
import json
import os
import re
import sys

import yaml

LOCATION = 'westeurope'
# given where azure-ai-ml 1.4.0 requires them and the file has none (command, sweep and automl jobs: serverless compute came later; foundation-model
# deployments are created with --endpoint-name and --set model=azureml://registries/…); the same values go to our side
COMPUTE = 'azureml:cpu-cluster'
ENDPOINT = 'my-endpoint'
MODEL = 'azureml://registries/azureml/models/demo-model/versions/1'
CONDA = 'name: placeholder\nchannels: [conda-forge]\ndependencies:\n  - python=3.10\n  - pip\n'
SCHEME = re.compile(r'^(azureml:|https?:|wasbs?:|abfss?:|adl:|git\+|docker:|\$\{\{)', re.I)
PATH_KEYS = {'code', 'path', 'conda_file', 'model', 'component', 'scoring_script', 'entry_script'}


def placeholders(root):
    """Create every local path a YAML under root names and that does not exist."""
    for d, _, files in os.walk(root):
        for f in files:
            if not f.endswith(('.yml', '.yaml')):
                continue
            yml = os.path.join(d, f)
            try:
                doc = yaml.safe_load(open(yml))
            except Exception:
                continue
            for key, value in walk(doc):
                if key not in PATH_KEYS or not isinstance(value, str) or SCHEME.match(value) or ':' in value.split('/')[0]:
                    continue
                if key == 'model' and not ('/' in value or '.' in value):
                    continue
                p = os.path.normpath(os.path.join(d, value))
                if os.path.exists(p):
                    continue
                if key in ('scoring_script', 'entry_script'):
                    continue  # relative to the code folder, not to the YAML
                os.makedirs(os.path.dirname(p), exist_ok=True)
                if key == 'conda_file':
                    open(p, 'w').write(CONDA)
                elif key == 'component':
                    continue
                elif value.endswith('/') or (key in ('code', 'path') and not os.path.splitext(value)[1]):
                    os.makedirs(p, exist_ok=True)
                    open(os.path.join(p, 'placeholder.txt'), 'w').write('placeholder\n')
                else:
                    open(p, 'w').write('placeholder\n')


def walk(node, key=None):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v, key)
    else:
        yield key, node


def component_specs(job, ser):
    """Offline, a pipeline node's componentId is its anonymous component's YAML text; the CLI registers that component
    first (ComponentVersions_CreateOrUpdate) and sends its ARM id. Put the componentSpec that registration would send
    (component._to_rest_object()) in componentId instead, so the two sides compare spec against spec."""
    nodes = getattr(job, 'jobs', None) or {}
    rest_jobs = (ser.get('properties') or {}).get('jobs') or {}
    for name, node in nodes.items():
        comp = getattr(node, '_component', None)
        if name in rest_jobs and comp is not None and not isinstance(comp, str):
            rest_jobs[name]['componentId'] = comp._to_rest_object().serialize()['properties']['componentSpec']
        # a sweep node's trial: offline the trial component's REST object; once registered the CLI sends
        # {componentId: <its id>} (entities/_builders/sweep.py _get_trial_component_rest_obj) → the spec, as above
        trial = (rest_jobs.get(name) or {}).get('trial')
        if isinstance(trial, dict) and isinstance(trial.get('properties'), dict) and 'componentSpec' in trial['properties']:
            rest_jobs[name]['trial'] = {'componentId': trial['properties']['componentSpec']}


def main():
    root, files = sys.argv[1], sys.argv[2:]
    placeholders(root)
    from azure.ai.ml import load_batch_deployment, load_batch_endpoint, load_job, load_online_deployment, load_online_endpoint
    from azure.ai.ml.entities._builders import BaseNode
    out = {}
    for rel in files:
        f = os.path.join(root, rel)
        schema = open(f).readline()
        overrides = []
        kind = 'job'
        job_type = None
        try:
            doc = yaml.safe_load(open(f)) or {}
            if not re.search(r'Endpoint|Deployment', schema, re.I):
                m = re.search(r'/(\w+?)Job\.schema', schema)
                job_type = str(doc.get('type') or (m.group(1) if m else 'command')).lower()
            if re.search(r'batchEndpoint', schema, re.I):
                kind = 'batch-endpoint'
                body = load_batch_endpoint(f)._to_rest_batch_endpoint(LOCATION)
            elif re.search(r'BatchDeployment', schema, re.I):
                kind = 'batch-deployment'
                body = load_batch_deployment(f)._to_rest_object(location=LOCATION)
            elif re.search(r'OnlineEndpoint', schema, re.I):
                kind = 'online-endpoint'
                body = load_online_endpoint(f)._to_rest_online_endpoint(LOCATION)
            elif re.search(r'OnlineDeployment', schema, re.I):
                kind = 'online-deployment'
                # the examples' scripts pass --endpoint-name (or --set endpoint_name=…): it replaces the file's value
                overrides.append({'endpoint_name': ENDPOINT})
                custom = isinstance(doc.get('environment'), dict) and 'inference_config' in doc['environment']
                if 'model' not in doc and not custom:  # a custom container may carry its model in its image
                    overrides.append({'model': MODEL})
                body = load_online_deployment(f, params_override=overrides)._to_rest_object(location=LOCATION)
            else:
                if doc.get('type', 'command') in ('command', 'sweep', 'automl') and 'compute' not in doc:
                    overrides.append({'compute': COMPUTE})
                job = load_job(f, params_override=overrides)
                if isinstance(job, BaseNode):
                    job = job._to_job()  # what JobOperations.create_or_update does with a node-shaped command job
                body = job._to_rest_object()
            ser = body.serialize()
            if kind == 'job':
                component_specs(job, ser)
            out[rel] = {'kind': kind, 'jobType': job_type, 'body': ser, 'overrides': overrides}
        except Exception as e:  # noqa: BLE001 — every failure is a row of the table
            msg = re.sub(r'\s+', ' ', str(e)).strip()
            out[rel] = {'kind': kind, 'jobType': job_type, 'error': f'{type(e).__name__}: {msg[:600]}', 'overrides': overrides}
    json.dump(out, sys.stdout, indent=1, default=str, sort_keys=True)


if __name__ == '__main__':
    main()
