-- Argo CD health of every gov.secovia.eu kind, from the status conventions they all follow:
-- observedGeneration, a summary condition Ready, and Suspended / Progressing where they apply.
local hs = {}
local status = obj.status
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to report status"
  return hs
end
local generation = obj.metadata.generation
if generation ~= nil and (status.observedGeneration == nil or status.observedGeneration < generation) then
  hs.status = "Progressing"
  hs.message = "Waiting for the operator to observe generation " .. generation
  return hs
end
local conditions = {}
for _, c in ipairs(status.conditions) do
  conditions[c.type] = c
end
local ready = conditions["Ready"]
local suspended = conditions["Suspended"]
if suspended ~= nil and suspended.status == "True" then
  hs.status = "Suspended"
  hs.message = suspended.message or "Suspended"
  return hs
end
if ready == nil or ready.status == "Unknown" then
  hs.status = "Progressing"
  hs.message = "Waiting for the Ready condition"
  return hs
end
if ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or "Ready"
  return hs
end
-- Not ready: still on its way while a rollout progresses, otherwise something needs an admin.
local progressing = conditions["Progressing"]
if ready.reason == "RollingOut" or (progressing ~= nil and progressing.status == "True" and progressing.reason ~= "NewReplicaSetAvailable") then
  hs.status = "Progressing"
else
  hs.status = "Degraded"
end
hs.message = (ready.reason or "NotReady") .. ": " .. (ready.message or "")
return hs
