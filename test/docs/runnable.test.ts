// The docs' runnable examples, run as written against real processes, so a doc cannot drift from the product.
//
// The convention (README.md, "Docs that run", says the same for writers):
// - A fenced block opened with ```sh runnable is run; every other block is only shown. Mark what a reader can paste
//   on a workstation; leave unmarked what needs a production host (docker exec, a real bucket, a cluster's etcd).
// - The runnable blocks of one file run in order in ONE bash session (`set -Eeuo pipefail`), so a variable or a file
//   one block makes is there for the next, and any failing command fails the doc, named by its file and line. A check
//   is a command that fails when the product is wrong: `bootstrap render | grep -A1 'readonly:'`.
// - ```sh runnable exit=N: the block must stop with status N (at its first failing command); it runs in a subshell,
//   so its variables do not reach later blocks.
// - The session starts in an empty temp dir with HOME in another, and the harness provides:
//   PATH          `registry`, `console-auth` and `bootstrap` (the built CLIs, as `npm link` installs them), then the
//                 system's etcdctl, curl, skopeo, umoci, awk...
//   ETCDCTL_ENDPOINTS, ETCD_ENDPOINTS   a fresh etcd 3.4 serving the v2 and v3 keyspaces (started when a block
//                 names etcdctl, bootstrap or $ETCD...). ETCDCTL_API is unset, which means v3, as Debian's etcdctl
//                 defaults: a command must say ETCDCTL_API=2 or ETCDCTL_API=3.
//   BOOTSTRAP_CONFIG_OUT, BOOTSTRAP_STATE_DIR   inside the temp dir, so bootstrap writes nothing outside it.
//   REGISTRY, CONFIG   host:port of a running `registry serve` on local disk and the path of its config.yml, holding
//                 team/app:v1 and team/app:v2 (one small layer each, nothing shared; started when a block names
//                 $REGISTRY or $CONFIG). Plain HTTP: skopeo needs --tls-verify=false.
//   PORT_REGISTRY, PORT_CONSOLE   two free ports, for docs that start their own registry and console-auth.
//   No other ETCD*, REGISTRY_* or BOOTSTRAP_* variable of the caller's environment reaches the session.
// - Whatever a doc leaves running (a server started with `&`) is stopped with the session's process group; a doc has
//   60 s. Keep docs fast and deterministic: no sleeps to wait for a server (`curl --retry-connrefused` waits for it),
//   no timing, no network beyond 127.0.0.1.
import { expect } from 'chai';
import { readDocs } from './markdown.js';
import { docHarnessPerSuite, runnableBlocks } from './session.js';

const docs = (await readDocs()).map(runnableBlocks);

describe('docs: runnable blocks run as written', function () {
  const harness = docHarnessPerSuite();

  it('marks the quickstart, the maintenance runbook and the README etcd examples runnable', function () {
    const marked = docs.filter((d) => d.blocks.length > 0).map((d) => d.path);
    expect(marked).to.include.members(['README.md', 'docs/quickstart-token-auth.md', 'docs/maintenance.md', 'docs/maintenance-schedule.md']);
  });

  for (const doc of docs.filter((d) => d.blocks.length > 0)) {
    it(`${doc.path}: its ${doc.blocks.length} runnable blocks succeed in order`, async function () {
      await harness().run(doc);
    });
  }
});
