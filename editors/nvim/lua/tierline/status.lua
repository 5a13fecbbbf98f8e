--- Statusline state: tier and model of the last completion, how it was served, today's spend,
--- and a warning state (failed or rejected attempts, budget reached, storage faults).
local wire = require("tierline.wire")

local M = {}

---@class tierline.StatusState
M.state = {
  tier = nil, ---@type string?
  model = nil, ---@type string?
  cached = false,
  spend_today = nil, ---@type number? USD, from tierline.stats (today.spend_usd)
  budget_reached = false,
  budget_warning = false,
  gateway = nil, ---@type table? tierline.stats gateway_budget ([budget] store = "litellm")
  last_route = nil, ---@type table? the last tierline/didRoute params
  stats = nil, ---@type table? the last tierline.stats answer
  storage_faults = {}, ---@type {message: string, client_id: integer?}[] from window/showMessage
  snoozed_until = nil, ---@type string? ISO time automatic suggestions resume (tierline.snooze)
}

local refreshing = false
local refresh_again = false

local function redraw()
  pcall(vim.cmd, "redrawstatus")
end

--- Fold a `tierline.stats` answer into the state (`partial`: only a snooze answer's field).
function M.on_stats(stats, partial)
  if type(stats) ~= "table" then
    return
  end
  M.state.snoozed_until = require("tierline.wire").str(stats.snoozed_until)
  require("tierline.snooze").watch(M.state.snoozed_until, function()
    M.refresh()
  end)
  if partial then
    return redraw()
  end
  M.state.stats = stats
  local today = type(stats.today) == "table" and stats.today or nil
  local budget = type(stats.budget) == "table" and stats.budget or nil
  if today and type(today.spend_usd) == "number" then
    M.state.spend_today = today.spend_usd
  elseif budget and type(budget.spent_today_usd) == "number" then
    M.state.spend_today = budget.spent_today_usd
  end
  if budget then
    M.state.budget_reached = budget.reached == true
    M.state.budget_warning = budget.warning == true -- 80 % of a cap spent
  end
  M.state.gateway = type(stats.gateway_budget) == "table" and stats.gateway_budget or nil
  redraw()
end

--- Ask the server for `tierline.stats` (one request at a time) and fold the answer in.
function M.refresh(client_id)
  if refreshing then
    refresh_again = true
    return
  end
  local lsp = require("tierline.lsp")
  local client = client_id and vim.lsp.get_client_by_id(client_id) or lsp.get_client()
  if not client then
    return
  end
  refreshing = true
  local ok = pcall(lsp.request, client, "workspace/executeCommand", { command = wire.CMD_STATS }, function(err, result)
    refreshing = false
    if not err then
      M.on_stats(result)
    end
    if refresh_again then
      refresh_again = false
      M.refresh(client_id)
    end
  end)
  if not ok then
    refreshing = false
  end
end

--- Handle a `window/showMessage`: a storage fault puts the statusline in its warning state.
function M.on_message(result, client_id)
  if type(result) ~= "table" or not wire.is_storage_fault(result.type, result.message) then
    return
  end
  for _, fault in ipairs(M.state.storage_faults) do
    if fault.message == result.message and fault.client_id == client_id then
      return
    end
  end
  table.insert(M.state.storage_faults, { message = result.message, client_id = client_id })
  redraw()
  M.refresh(client_id)
end

--- Handle `tierline/didRoute`.
function M.on_route(params, client_id)
  M.state.last_route = params
  M.state.tier = wire.tier_label(params)
  M.state.model = params.model
  M.state.cached = params.cached == true
  if type(params.cost_usd) == "number" then
    M.state.spend_today = (M.state.spend_today or 0) + params.cost_usd -- until stats answers
  end
  redraw()
  M.refresh(client_id)
end

--- USD with two significant digits for small amounts: 0.00004 -> "$0.00004", 0.0021 -> "$0.0021".
local function money(v)
  v = wire.num(v)
  if not v or v ~= v or v == math.huge or v == -math.huge then
    return "$?"
  end
  local a = math.abs(v)
  local sign = v < 0 and "-" or ""
  if a == 0 then
    return "$0"
  elseif a >= 1 then
    return ("%s$%.2f"):format(sign, a)
  end
  local decimals = math.min(10, math.max(2, 1 - math.floor(math.log10(a))))
  local text = ("%." .. decimals .. "f"):format(a):gsub("0+$", ""):gsub("%.$", "")
  if text == "0" then
    return sign .. "<$0.0000000001"
  end
  return sign .. "$" .. text
end
M.money = money

--- How a completion was served: "excluded", "typed", "cached", or nil for a model call.
---@return string?
function M.served(route)
  if wire.is_excluded(route) then
    return "excluded"
  elseif wire.is_typed_through(route) then
    return "typed"
  elseif route.cached == true then
    return "cached"
  end
end

--- Models that rejected the request for good (a permanent provider error), deduplicated.
---@return string[]
function M.rejected(route)
  local names = {}
  for _, a in ipairs(wire.attempts(route)) do
    if a.outcome == wire.OUTCOME.REJECTED and not vim.tbl_contains(names, a.model) then
      names[#names + 1] = tostring(a.model)
    end
  end
  return names
end

--- The gateway's budget for the statusline: " gateway $7.00 left", " gateway spent", or "".
---@param g table? tierline.stats gateway_budget
---@return string
function M.gateway_status(g)
  if type(g) ~= "table" then
    return ""
  elseif g.exhausted == true then
    return " gateway spent"
  end
  local left = wire.num(g.available_usd) or wire.num(g.remaining_usd)
  return (g.capping == true and left) and (" gateway " .. money(left) .. " left") or ""
end

--- The gateway's budget for the stats window, one line (nil without one).
---@param g table? tierline.stats gateway_budget
---@return string?
function M.gateway_line(g)
  if type(g) ~= "table" then
    return nil
  elseif g.capping ~= true then
    return wire.str(g.error) and ("Gateway could not be read (%s): the local caps hold"):format(g.error)
      or "Gateway not read yet: the local caps hold"
  end
  local function figure(v)
    return wire.num(v) and money(v) or "no budget"
  end
  local parts = { ("key %s %s"):format(wire.str(g.key) or "?", figure(g.key_remaining_usd)) }
  if wire.str(g.team) then
    parts[#parts + 1] = ("team %s %s"):format(g.team, figure(g.team_remaining_usd))
  end
  local left = wire.num(g.available_usd) or wire.num(g.remaining_usd)
  return ("Gateway %s left (%s)%s%s"):format(left and money(left) or "no budget", table.concat(parts, ", "),
    wire.str(g.checked_at) and ("   read " .. g.checked_at) or "", g.exhausted == true and "   SPENT" or "")
end

--- The facts after the model: a downshift by the budget, the models that rejected the request.
---@return string[]
function M.notes(route)
  local notes = {}
  local from = wire.downshifted_from(route)
  if from then
    notes[#notes + 1] = "downshifted from " .. from
  end
  local rejected = M.rejected(route)
  if #rejected > 0 then
    notes[#notes + 1] = table.concat(rejected, ", ") .. " rejected"
  end
  return notes
end

--- One line about a completion: `tier · model · score · served · cost [· notes]`.
---@param route table didRoute params
---@return string
function M.describe(route)
  local score = wire.num(route.score)
  local latency = wire.num(route.latency_ms)
  local parts = {
    wire.tier_label(route),
    wire.str(route.model) or "no model",
    score and ("score %.2f"):format(score) or "score n/a",
    M.served(route) == "excluded" and "excluded (nothing sent)" or M.served(route)
      or (latency and ("%d ms"):format(math.floor(latency + 0.5)) or "? ms"),
    money(route.cost_usd),
  }
  vim.list_extend(parts, M.notes(route))
  local redactions = wire.num(route.redactions)
  if redactions and redactions > 0 then
    parts[#parts + 1] = ("%d secret%s redacted"):format(redactions, redactions == 1 and "" or "s")
  end
  return table.concat(parts, " · ")
end

--- Why the statusline is in its warning state, one line each (empty: not in it).
---@return string[]
function M.reasons()
  local s, reasons = M.state, {}
  local route = type(s.last_route) == "table" and s.last_route or nil
  if route then
    local rejected = {}
    local failed = {}
    for _, a in ipairs(wire.attempts(route)) do
      if a.outcome == wire.OUTCOME.REJECTED then
        rejected[#rejected + 1] = tostring(a.model) .. (wire.str(a.detail) and (" (" .. a.detail .. ")") or "")
      elseif wire.is_failure(a.outcome) then
        failed[#failed + 1] = tostring(a.model) .. " " .. tostring(a.outcome)
      end
    end
    if #rejected > 0 then
      reasons[#reasons + 1] = "rejected by the provider (permanent error): " .. table.concat(rejected, ", ")
    end
    if #failed > 0 then
      reasons[#reasons + 1] = "failed attempts: " .. table.concat(failed, ", ")
    end
  end
  if s.budget_reached then
    reasons[#reasons + 1] = "daily budget reached"
  elseif s.budget_warning then
    reasons[#reasons + 1] = "80% of a budget cap spent"
  end
  if type(s.gateway) == "table" and s.gateway.exhausted == true then
    reasons[#reasons + 1] = "the gateway refused a call for its budget"
  end
  local seen = {}
  local warnings = type(s.stats) == "table" and type(s.stats.warnings) == "table" and s.stats.warnings or {}
  -- A fault a stopped server reported is its own: a new server process reports again.
  local messages = {}
  for _, fault in ipairs(s.storage_faults) do
    local client = fault.client_id and vim.lsp.get_client_by_id(fault.client_id)
    if not fault.client_id or (client and not (client.is_stopped and client:is_stopped())) then
      messages[#messages + 1] = fault.message
    end
  end
  for _, list in ipairs({ warnings, messages }) do
    for _, w in ipairs(list) do
      w = tostring(w)
      if not seen[w] then
        seen[w] = true
        reasons[#reasons + 1] = "storage: " .. w
      end
    end
  end
  return reasons
end

--- `cheap·deepseek-v4-flash $0.0021`, with how it was served (`cached`, `typed`, `excluded`),
--- a downshift or a rejecting model after the model, and `⚠ ` in front in the warning state;
--- "" when no tierline client is running.
function M.render()
  local s = M.state
  if not s.tier and #vim.lsp.get_clients({ name = "tierline" }) == 0 then
    return ""
  end
  local spend = ("$%.4f"):format(s.spend_today or 0)
  if s.budget_reached then
    spend = spend .. " (budget reached)"
  elseif s.budget_warning then
    spend = spend .. " (budget 80%)"
  end
  spend = spend .. M.gateway_status(s.gateway)
  local warn = #M.reasons() > 0 and "⚠ " or ""
  local snoozed = require("tierline.snooze").label(s.snoozed_until)
  if snoozed then
    warn = warn .. snoozed .. " · "
  end
  if not s.tier then
    return warn .. "tierline " .. spend
  end
  local route = type(s.last_route) == "table" and s.last_route or {}
  local parts = { ("%s·%s"):format(s.tier, wire.str(s.model) or "no model") }
  parts[#parts + 1] = M.served(route)
  vim.list_extend(parts, M.notes(route))
  parts[#parts + 1] = spend
  return warn .. table.concat(parts, " ")
end

return M
