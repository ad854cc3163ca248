# The three pydash functions azure-ai-ml 1.4.0 (Debian python3-azure 20230112) calls — pydash is not packaged by
# Debian and the Python package index is not reachable here. Dev-only: used by scripts/compare-azure-ai-ml only.
#   azure/ai/ml/_utils/utils.py: pydash.omit; entities/_validation.py, _builders/sweep.py,
#   _job/pipeline/_component_translatable.py: pydash.get / from pydash import get; _schema/core/schema.py: objects.set_
import sys as _sys
import types as _types


def _keys(path):
    return path.split('.') if isinstance(path, str) else list(path)


def get(obj, path, default=None):
    cur = obj
    for k in _keys(path):
        try:
            cur = cur[k] if isinstance(cur, (dict, list)) else getattr(cur, k)
        except (KeyError, AttributeError, TypeError, IndexError):
            return default
    return cur


def set_(obj, path, value):
    keys = _keys(path)
    cur = obj
    for k in keys[:-1]:
        if isinstance(cur, dict):
            cur = cur.setdefault(k, {})
        else:
            if getattr(cur, k, None) is None:
                setattr(cur, k, {})
            cur = getattr(cur, k)
    if isinstance(cur, dict):
        cur[keys[-1]] = value
    else:
        setattr(cur, keys[-1], value)
    return obj


def omit(obj, *keys):
    drop = set()
    for k in keys:
        drop.update(k if isinstance(k, (list, tuple, set)) else [k])
    return {k: v for k, v in obj.items() if k not in drop}


objects = _types.ModuleType('pydash.objects')
objects.get, objects.set_, objects.omit = get, set_, omit
_sys.modules['pydash.objects'] = objects
