#!/usr/bin/env node
// Run Python under Pyodide in Node, with the wheels the static site ships and nothing from the network.
//
//   node scripts/pyodide_node.mjs [options] FILE.py [args...]
//   node scripts/pyodide_node.mjs [options] -m MODULE [args...]     e.g. -m pytest tests/x.py
//   node scripts/pyodide_node.mjs [options] -c CODE
//
// Options:
//   --site DIR          the built site (default lite/_output, from `make lite`): Pyodide's core in
//                       static/pyodide/ and its rewritten pyodide-lock.json, whose wheels load offline
//   --load NAMES        comma-separated packages of that lock to load first (default: micropip);
//                       e.g. --load django-migrations-kit brings Django, asgiref, sqlparse, ipywidgets...
//   --wheels DIR        install every *.whl in DIR with micropip from local files (repeatable), e.g.
//                       lite/.cache/wheels/test for pytest, pluggy and iniconfig
//   --env NAME=VALUE    set an environment variable inside Pyodide (repeatable)
//
// Pyodide always has a running asyncio loop (its WebLoop), even outside runPythonAsync, so Django's ORM
// raises SynchronousOnlyOperation unless DJANGO_ALLOW_ASYNC_UNSAFE=true: set here by default, as the kit's
// in-process runner must do in the browser (--env DJANGO_ALLOW_ASYNC_UNSAFE= to see the failure).
//
// The current directory is mounted at the same path inside Pyodide and is the working directory, so
// relative paths work as on the host. Python writes no bytecode there (sys.dont_write_bytecode), pytest
// runs without its cache provider, and any http(s) fetch is refused: what is not local fails loudly.
// The exit code is Python's (SystemExit), 1 for an uncaught exception.

import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function usage(message) {
  if (message) console.error(message);
  console.error("usage: node scripts/pyodide_node.mjs [--site DIR] [--load A,B] [--wheels DIR]... [--env K=V]... (FILE.py | -m MODULE | -c CODE) [args...]");
  process.exit(2);
}

function parse(argv) {
  const options = {
    site: path.join(repo, "lite", "_output"),
    load: ["micropip"],
    wheels: [],
    env: { DJANGO_ALLOW_ASYNC_UNSAFE: "true" },
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--site") options.site = path.resolve(argv[++i]);
    else if (arg === "--load") options.load = ["micropip", ...argv[++i].split(",").filter(Boolean)];
    else if (arg === "--wheels") options.wheels.push(path.resolve(argv[++i]));
    else if (arg === "--env") {
      const [name, ...value] = argv[++i].split("=");
      options.env[name] = value.join("=");
    } else break;
  }
  const rest = argv.slice(i);
  if (rest[0] === "-m" && rest[1]) options.run = { kind: "module", target: rest[1], args: rest.slice(2) };
  else if (rest[0] === "-c" && rest[1] !== undefined) options.run = { kind: "code", target: rest[1], args: rest.slice(2) };
  else if (rest[0] && !rest[0].startsWith("-")) options.run = { kind: "file", target: path.resolve(rest[0]), args: rest.slice(1) };
  else usage();
  return options;
}

// Nothing may come from another host: wheels and the lock are local files.
const localFetch = globalThis.fetch;
globalThis.fetch = (resource, init) => {
  const url = String(resource instanceof Request ? resource.url : resource);
  if (/^https?:/i.test(url)) return Promise.reject(new Error(`refused a network request to ${url} (offline by design)`));
  return localFetch(resource, init);
};

function mount(pyodide, hostDir, target) {
  pyodide.FS.mkdirTree(target);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: hostDir }, target);
}

async function main() {
  const options = parse(process.argv.slice(2));
  const indexDir = path.join(options.site, "static", "pyodide");
  if (!fs.existsSync(path.join(indexDir, "pyodide.mjs"))) usage(`No Pyodide in ${indexDir}: run make lite first.`);
  const { loadPyodide } = await import(pathToFileURL(path.join(indexDir, "pyodide.mjs")).href);
  const started = performance.now();
  const pyodide = await loadPyodide({ indexURL: indexDir + path.sep, env: { HOME: "/home/pyodide", ...options.env } });
  await pyodide.loadPackage(options.load, { messageCallback: () => {} });

  const wheels = [];
  options.wheels.forEach((dir, n) => {
    mount(pyodide, dir, `/wheels/${n}`);
    for (const name of fs.readdirSync(dir).sort()) if (name.endsWith(".whl")) wheels.push(`emfs:/wheels/${n}/${name}`);
  });
  if (wheels.length) {
    pyodide.globals.set("_wheels", pyodide.toPy(wheels));
    // Dependencies resolve against the wheels given, then the lock's (local) ones; an index lookup is refused.
    await pyodide.runPythonAsync("import micropip\nawait micropip.install(list(_wheels))\ndel _wheels");
  }

  const cwd = process.cwd();
  mount(pyodide, cwd, cwd);
  const ready = ((performance.now() - started) / 1000).toFixed(2);
  if (process.env.PYODIDE_NODE_VERBOSE) console.error(`pyodide ready in ${ready} s`);

  pyodide.globals.set("_run", pyodide.toPy(options.run));
  const script = `
import os, runpy, sys
sys.dont_write_bytecode = True
os.chdir(${JSON.stringify(cwd)})
sys.path.insert(0, os.getcwd())
_spec = _run
del _run
_args = list(_spec["args"])
if _spec["kind"] == "module" and _spec["target"] == "pytest":
    _args = ["-p", "no:cacheprovider", *_args]
sys.argv = [_spec["target"], *_args]
_exit = 0
try:
    if _spec["kind"] == "module":
        runpy.run_module(_spec["target"], run_name="__main__", alter_sys=True)
    elif _spec["kind"] == "file":
        sys.path[0] = os.path.dirname(_spec["target"])
        runpy.run_path(_spec["target"], run_name="__main__")
    else:
        exec(compile(_spec["target"], "<string>", "exec"), {"__name__": "__main__"})
except SystemExit as stop:
    _exit = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    if not isinstance(stop.code, (int, type(None))):
        print(stop.code, file=sys.stderr)
except BaseException:
    import traceback
    traceback.print_exc()
    _exit = 1
sys.stdout.flush(); sys.stderr.flush()
_exit
`;
  const code = pyodide.runPython(script);
  process.exit(code);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
