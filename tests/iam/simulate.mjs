// Evaluates a batch of IAM requests with @cloud-copilot/iam-simulate (test-only, AGPL-3.0).
//
// stdin: a JSON array of requests, each
//   { "name": "...", "principal": "arn:...", "action": "svc:Action", "resource": "arn:..." | "*",
//     "resourceAccount": "111122223333", "identityPolicies": [<policy>...],
//     "permissionBoundaryPolicies": [<policy>...]?, "resourcePolicy": <policy>?,
//     "context": { "key": "value" | ["values"] } }
// stdout: a JSON array, one entry per request, in order:
//   { "name", "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Invalid",
//     "resultType", "errors" (when Invalid: why the simulator refused the request or a policy,
//     e.g. an unknown action or a resource ARN the action does not accept),
//     "ignoredContextKeys" (context keys that do not apply to the action) }
//
// IAM_SIMULATE_DIR names the directory holding node_modules (scripts/iam-simulator.sh).
import { createRequire } from 'node:module'
import { join } from 'node:path'

const dir = process.env.IAM_SIMULATE_DIR
if (!dir) {
  console.error('IAM_SIMULATE_DIR is not set: run scripts/iam-simulator.sh and pass its last line')
  process.exit(2)
}
const { runSimulation } = createRequire(join(dir, 'package.json'))('@cloud-copilot/iam-simulate')

const chunks = []
for await (const chunk of process.stdin) chunks.push(chunk)
const requests = JSON.parse(Buffer.concat(chunks).toString('utf8'))

const named = (prefix, policies) => (policies ?? []).map((policy, i) => ({ name: `${prefix}${i}`, policy }))

const out = []
for (const r of requests) {
  const simulation = {
    request: {
      principal: r.principal,
      action: r.action,
      resource: { resource: r.resource, accountId: r.resourceAccount },
      contextVariables: r.context ?? {},
    },
    identityPolicies: named('identity', r.identityPolicies),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  }
  if (r.permissionBoundaryPolicies) {
    simulation.permissionBoundaryPolicies = named('boundary', r.permissionBoundaryPolicies)
  }
  if (r.resourcePolicy) simulation.resourcePolicy = r.resourcePolicy
  const result = await runSimulation(simulation, {})
  if (result.resultType === 'error') {
    out.push({ name: r.name, decision: 'Invalid', resultType: 'error', errors: result.errors, ignoredContextKeys: [] })
    continue
  }
  const ignored =
    result.resultType === 'single'
      ? (result.result.ignoredContextKeys ?? [])
      : result.results.flatMap((x) => x.ignoredContextKeys ?? [])
  out.push({ name: r.name, decision: result.overallResult, resultType: result.resultType, errors: null, ignoredContextKeys: ignored })
}
process.stdout.write(JSON.stringify(out) + '\n')
