-- ArgoCD health of a pipelineservice.appstudio.io/PipelineService, and of a
-- PipelineServiceHost, which reports the same kstatus conditions (it never stalls and has no
-- upgrade).
--
-- Healthy:     Ready is True and the operator has reported on the current generation.
-- Degraded:    Stalled (input the operator refuses), or Ready is False for a reason that is
--              not progress (a catalog in TRANSIENT_FAILURE, a failed CSV, an InstallPlan the
--              operator will not approve, an apply the API server refuses), even while an
--              upgrade runs.
-- Progressing: the operator has not caught up with the generation, is applying it
--              (Reconciling), an upgrade of OpenShift Pipelines runs, or Ready is Unknown
--              (something on its way: a catalog connecting, a CSV installing).
-- Suspended:   spec.suspend is true: the operator writes no child, whatever else holds.
-- The message is the message of the condition that decided.
local hs = {}

-- Ready=False reasons that still mean "on its way"; the operator reports those as Unknown,
-- this list keeps older operator versions, which did not, from looking Degraded.
local progressReasons = {
  Progressing = true, Upgrading = true, UpgradePending = true, OperatorInstalling = true,
  CSVInstalling = true, CSVReplacing = true, CatalogSourceConnecting = true,
  TektonConfigInstalling = true, TektonConfigCRDMissing = true, ExporterRollingOut = true,
}

local function condition(conditions, type)
  if conditions == nil then
    return nil
  end
  for _, c in ipairs(conditions) do
    if c.type == type then
      return c
    end
  end
  return nil
end

local generation = obj.metadata.generation or 0
local status = obj.status

if obj.spec ~= nil and obj.spec.suspend == true then
  hs.status = "Suspended"
  local suspended = nil
  if status ~= nil then
    suspended = condition(status.conditions, "Suspended")
  end
  if suspended ~= nil and suspended.status == "True" then
    hs.message = suspended.message
  else
    hs.message = "spec.suspend is true: pipeline-service-operator writes no child"
  end
  return hs
end
if status == nil or status.conditions == nil then
  hs.status = "Progressing"
  hs.message = "Waiting for pipeline-service-operator to report a status"
  return hs
end

local ready = condition(status.conditions, "Ready")
local stalled = condition(status.conditions, "Stalled")
local reconciling = condition(status.conditions, "Reconciling")

if stalled ~= nil and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = stalled.message
  return hs
end
if ready == nil or (ready.observedGeneration or 0) < generation then
  hs.status = "Progressing"
  hs.message = "Waiting for pipeline-service-operator to report on generation " .. generation
  return hs
end
if ready.status == "False" and not progressReasons[ready.reason] then
  hs.status = "Degraded"
  hs.message = ready.message
  return hs
end
if reconciling ~= nil and reconciling.status == "True" then
  hs.status = "Progressing"
  hs.message = reconciling.message
  return hs
end
if status.upgrade ~= nil and status.upgrade.completedAt == nil then
  hs.status = "Progressing"
  hs.message = "Upgrade to " .. (status.upgrade.to or "a new CSV") .. " is running"
  return hs
end
if ready.status == "True" then
  -- lastAppliedGeneration is the generation wholly applied; operators before it kept that in
  -- observedGeneration, which now tells the generation acted on (as kstatus reads it).
  local applied = status.lastAppliedGeneration or status.observedGeneration or 0
  if applied < generation then
    hs.status = "Progressing"
    hs.message = "Waiting for pipeline-service-operator to apply generation " .. generation
    return hs
  end
  hs.status = "Healthy"
  hs.message = ready.message
  return hs
end
hs.status = "Progressing"
hs.message = ready.message
return hs
