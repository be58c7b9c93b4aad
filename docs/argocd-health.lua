-- Argo CD health of a faceliveness.dev/LivenessApp, from the conditions liveness-operator
-- writes (docs/argocd-health.md shows where it goes).
--   Healthy      Ready=True for the current generation
--   Degraded     Stalled=True: the app waits for a change only a person can make (the spec,
--                permissions, a conflicting object, adoption not allowed, Gateway API missing)
--   Progressing  everything else: not observed yet, Reconciling, AWS busy, pods starting, deleting
local hs = {}
-- Reasons that need a change, for statuses written before the Stalled condition existed.
local needs_change = {
  InvalidSpec = true,
  AccessDenied = true,
  Conflict = true,
  AwsError = true,
  AdoptionRefused = true,
  GatewayApiMissing = true,
}

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.status = "Progressing"
  hs.message = "Deleting: the operator is cleaning up the AWS objects"
  return hs
end

local generation = nil
if obj.metadata ~= nil then
  generation = obj.metadata.generation
end

local by_type = {}
if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    by_type[condition.type] = condition
  end
end

local ready = by_type["Ready"]
if ready == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report Ready"
  return hs
end
if generation ~= nil and ready.observedGeneration ~= nil and ready.observedGeneration < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to reconcile generation " .. tostring(generation)
  return hs
end

local stalled = by_type["Stalled"]
if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = (stalled.reason or "") .. ": " .. (stalled.message or "")
  return hs
end

local message = ready.message or ""
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = message
elseif ready.status == "False" and needs_change[ready.reason] then
  hs.status = "Degraded"
  hs.message = (ready.reason or "") .. ": " .. message
else
  hs.status = "Progressing"
  hs.message = (ready.reason or "") .. ": " .. message
end
return hs
