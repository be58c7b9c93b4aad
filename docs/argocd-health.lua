-- Argo CD health of a faceliveness.dev/LivenessApp, from the conditions liveness-operator
-- writes (docs/argocd-health.md shows where it goes).
--   Healthy      Ready=True for the current generation
--   Degraded     Ready=False for a reason only a change can fix (spec, permissions, a conflict)
--   Progressing  everything else: not observed yet, AWS busy, endpoint pods starting, deleting
local hs = {}
local needs_change = {
  InvalidSpec = true,
  AccessDenied = true,
  Conflict = true,
  AwsError = true,
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

if obj.status ~= nil and obj.status.conditions ~= nil then
  for _, condition in ipairs(obj.status.conditions) do
    if condition.type == "Ready" then
      if generation ~= nil and condition.observedGeneration ~= nil and condition.observedGeneration < generation then
        hs.status = "Progressing"
        hs.message = "Waiting for the operator to reconcile generation " .. tostring(generation)
        return hs
      end
      local message = condition.message or ""
      if condition.status == "True" then
        hs.status = "Healthy"
        hs.message = message
      elseif condition.status == "False" and needs_change[condition.reason] then
        hs.status = "Degraded"
        hs.message = (condition.reason or "") .. ": " .. message
      else
        hs.status = "Progressing"
        hs.message = (condition.reason or "") .. ": " .. message
      end
      return hs
    end
  end
end

hs.status = "Progressing"
hs.message = "Waiting for the operator to report Ready"
return hs
