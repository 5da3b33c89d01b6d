// Driver for the article's handler (index.js, unchanged): reads a JSON list of API Gateway TOKEN
// authorizer events on stdin, awaits handler(event) for each, and writes one JSON list on stdout:
// [{"answer": <what the handler returned>, "error": {"name", "message"} | null}, ...].
// "error" is what jwt.verify threw inside the handler (the handler swallows it): the driver wraps
// the module's verify before index.js is loaded, records the error and re-throws it unchanged.
'use strict';
const jwt = require('jsonwebtoken');

let thrown = null;
const verify = jwt.verify;
jwt.verify = function recordingVerify(...args) {
  try {
    return verify.apply(this, args);
  } catch (err) {
    thrown = { name: err.name, message: err.message };
    throw err;
  }
};

const { handler } = require('./index');

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const events = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  if (!Array.isArray(events)) throw new Error('stdin must be a JSON list of events');
  const results = [];
  for (const event of events) {
    thrown = null;
    const answer = await handler(event);
    results.push({ answer, error: thrown });
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((err) => {
  process.stderr.write(`run.js: ${err.message}\n`);
  process.exit(1);
});
