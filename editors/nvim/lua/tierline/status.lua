--- Statusline state: tier and model of the last completion, today's spend.
local M = {}

---@class tierline.StatusState
M.state = {
  tier = nil, ---@type string?
  model = nil, ---@type string?
  cached = false,
  spend_today = nil, ---@type number? USD, from tierline.stats (today.spend_usd)
  budget_reached = false,
  last_route = nil, ---@type table? the last tierline/didRoute params
  stats = nil, ---@type table? the last tierline.stats answer
}

local refreshing = false
local refresh_again = false

local function redraw()
  pcall(vim.cmd, "redrawstatus")
end

--- Fold a `tierline.stats` answer into the state.
function M.on_stats(stats)
  if type(stats) ~= "table" then
    return
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
  end
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
  local ok = pcall(lsp.request, client, "workspace/executeCommand", { command = "tierline.stats" }, function(err, result)
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

--- Handle `tierline/didRoute`.
function M.on_route(params, client_id)
  M.state.last_route = params
  M.state.tier = params.tier
  M.state.model = params.model
  M.state.cached = params.cached == true
  if type(params.cost_usd) == "number" then
    M.state.spend_today = (M.state.spend_today or 0) + params.cost_usd -- until stats answers
  end
  redraw()
  M.refresh(client_id)
end

--- `cheap·deepseek-v4-flash $0.0021`; "" when no tierline client is running.
function M.render()
  local s = M.state
  if not s.tier and #vim.lsp.get_clients({ name = "tierline" }) == 0 then
    return ""
  end
  local spend = ("$%.4f"):format(s.spend_today or 0)
  if s.budget_reached then
    spend = spend .. " (budget reached)"
  end
  if not s.tier then
    return "tierline " .. spend
  end
  local model = s.model and s.model ~= vim.NIL and s.model or "-"
  return ("%s·%s %s"):format(s.tier, model, spend)
end

return M
