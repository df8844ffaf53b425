// Small helpers shared by the end-to-end test files.
import assert from 'node:assert/strict';

// PASSWORD is the password of every user the tests create.
export const PASSWORD = 'correct horse battery staple';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// expectReject awaits p, fails the test if it resolves, and returns the rejection.
export async function expectReject(p) {
  try {
    const v = await p;
    assert.fail(`expected a rejection, got ${JSON.stringify(v)}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return err;
  }
}

// eventually retries fn (which throws until its condition holds) for up to ms milliseconds.
export async function eventually(ms, fn) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(50);
    }
  }
}
