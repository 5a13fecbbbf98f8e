--- `:TierlineStats`: the `tierline.stats` answer as a table in a floating window.
local M = {}

local function money(v)
  if type(v) ~= "number" then
    return "-"
  end
  if v > 0 and v < 0.00005 then
    return "<$0.0001"
  end
  return ("$%.4f"):format(v)
end

local function pct(v)
  return type(v) == "number" and ("%.1f%%"):format(v) or "-"
end

local function num(v)
  if type(v) ~= "number" then
    return (v == nil or v == vim.NIL) and "-" or tostring(v)
  end
  if v == math.floor(v) then
    return ("%d"):format(v)
  end
  return ("%.1f"):format(v)
end

--- Format one cell by the key's unit suffix.
local function cell(key, v)
  if key:match("_usd$") then
    return money(v)
  elseif key:match("_pct$") then
    return pct(v)
  elseif key:match("_ms$") then
    return type(v) == "number" and ("%d"):format(math.floor(v + 0.5)) or "-"
  end
  return num(v)
end

local PREFERRED = {
  "requests", "model_calls", "calls", "cache_hits", "failures", "ewma_ms", "p95_ms",
  "spend_usd", "premium_baseline_usd", "savings_pct",
}
local TIER_ORDER = { cheap = 1, mid = 2, premium = 3 }

local function header(key)
  return (key:gsub("_usd$", ""):gsub("_pct$", " %%"):gsub("_ms$", " ms"):gsub("_", " "))
end

local TIER_COLUMNS = { "requests", "model_calls", "cache_hits", "spend_usd", "premium_baseline_usd", "savings_pct" }
local MODEL_COLUMNS = { "calls", "failures", "ewma_ms", "p95_ms", "spend_usd", "breaker" }

--- Columns: those of `wanted` that occur; without `wanted` (or none occurring), every scalar key.
local function columns(rows, wanted)
  if wanted then
    local cols = {}
    for _, k in ipairs(wanted) do
      for _, r in pairs(rows) do
        if type(r) == "table" and r[k] ~= nil and type(r[k]) ~= "table" then
          cols[#cols + 1] = k
          break
        end
      end
    end
    if #cols > 0 then
      return cols
    end
  end
  local seen = {}
  for _, r in pairs(rows) do
    if type(r) == "table" then
      for k, v in pairs(r) do
        if type(v) ~= "table" then
          seen[k] = true
        end
      end
    end
  end
  local cols = {}
  for _, k in ipairs(PREFERRED) do
    if seen[k] then
      cols[#cols + 1] = k
      seen[k] = nil
    end
  end
  local rest = vim.tbl_keys(seen)
  table.sort(rest)
  vim.list_extend(cols, rest)
  return cols
end

local function table_lines(title, rows, order, wanted)
  if type(rows) ~= "table" or vim.tbl_isempty(rows) then
    return { title .. ": none yet" }
  end
  local cols = columns(rows, wanted)
  local names = vim.tbl_keys(rows)
  table.sort(names, function(a, b)
    local oa, ob = order and order[a] or 99, order and order[b] or 99
    if oa ~= ob then
      return oa < ob
    end
    return a < b
  end)
  local grid = { { title } }
  for _, c in ipairs(cols) do
    table.insert(grid[1], header(c))
  end
  for _, name in ipairs(names) do
    local row = { name }
    for _, c in ipairs(cols) do
      row[#row + 1] = cell(c, rows[name][c])
    end
    grid[#grid + 1] = row
  end
  local widths = {}
  for _, row in ipairs(grid) do
    for i, v in ipairs(row) do
      widths[i] = math.max(widths[i] or 0, vim.fn.strdisplaywidth(v))
    end
  end
  local out = {}
  for _, row in ipairs(grid) do
    local parts = {}
    for i, v in ipairs(row) do
      local pad = string.rep(" ", widths[i] - vim.fn.strdisplaywidth(v))
      parts[i] = i == 1 and (v .. pad) or (pad .. v)
    end
    out[#out + 1] = table.concat(parts, "  ")
  end
  return out
end

--- Cost per accepted character: two significant digits (0.0000005 -> "$0.0000005"), "-" before
--- the first acceptance (the server sends null).
local function per_char(v)
  if type(v) ~= "number" then
    return "-"
  end
  if v == 0 then
    return "$0"
  end
  local decimals = math.min(10, math.max(2, 1 - math.floor(math.log10(math.abs(v)))))
  local text = ("%." .. decimals .. "f"):format(v):gsub("0+$", ""):gsub("%.$", "")
  return "$" .. text
end

local function rate(v)
  return type(v) == "number" and ("%d%%"):format(math.floor(v * 100 + 0.5)) or "-"
end

local ACCEPTANCE_COLUMNS = { "shown", "accepted", "rate", "accepted_chars", "retained_chars", "cost_per_accepted_char" }

--- One acceptance (wire.ACCEPTANCE_FIELDS) as the cells of its row, already formatted.
local function acceptance_row(a)
  return {
    shown = num(a.shown),
    accepted = num(a.accepted),
    rate = rate(a.rate),
    accepted_chars = num(a.accepted_chars),
    retained_chars = num(a.retained_chars),
    cost_per_accepted_char = per_char(a.cost_per_accepted_char_usd),
  }
end

local function acceptance_rows(by_name)
  local rows = {}
  for name, a in pairs(type(by_name) == "table" and by_name or {}) do
    if type(a) == "table" then
      rows[name] = acceptance_row(a)
    end
  end
  return rows
end

--- What became of the completions shown: overall, then per tier, model and language. Nothing
--- from a server that sends no `acceptance`.
local function acceptance_lines(s)
  local overall = s.acceptance
  if type(overall) ~= "table" then
    return {}
  end
  if type(overall.shown) ~= "number" or overall.shown == 0 then
    return { "", "Accepted  no completions shown yet" }
  end
  local lines = {
    "",
    ("Accepted  %s of %s shown (%s)   %s chars accepted, %s retained   %s per accepted char"):format(
      num(overall.accepted), num(overall.shown), rate(overall.rate), num(overall.accepted_chars),
      num(overall.retained_chars), per_char(overall.cost_per_accepted_char_usd)),
  }
  -- The share of accepted characters still there after 30 s, 2, 5 and 10 minutes ("-": not measured yet).
  if type(overall.retained) == "table" then
    local cells = {}
    for _, c in ipairs({ { "30s", "30 s" }, { "120s", "2 min" }, { "300s", "5 min" }, { "600s", "10 min" } }) do
      cells[#cells + 1] = ("%s %s"):format(c[2], rate(overall.retained[c[1]]))
    end
    lines[#lines + 1] = "Retained  " .. table.concat(cells, "   ")
  end
  local by_tier = {}
  for tier, row in pairs(type(s.by_tier) == "table" and s.by_tier or {}) do
    if type(row) == "table" then
      by_tier[tier] = row.acceptance
    end
  end
  local wire = require("tierline.wire")
  for _, group in ipairs({
    { "accepted by tier", by_tier, TIER_ORDER },
    { "accepted by model", s[wire.ACCEPTANCE_BY.model] },
    { "accepted by language", s[wire.ACCEPTANCE_BY.language] },
  }) do
    local rows = acceptance_rows(group[2])
    if not vim.tbl_isempty(rows) then
      lines[#lines + 1] = ""
      vim.list_extend(lines, table_lines(group[1], rows, group[3], ACCEPTANCE_COLUMNS))
    end
  end
  return lines
end

--- The lines of the stats window.
---@param s table the tierline.stats answer
---@param route? table the last tierline/didRoute params
---@return string[]
function M.format(s, route)
  local lines = {}
  local warnings = type(s.warnings) == "table" and s.warnings or {}
  for _, w in ipairs(warnings) do
    lines[#lines + 1] = "WARNING storage: " .. tostring(w)
  end
  if type(route) == "table" then
    lines[#lines + 1] = "Last    " .. require("tierline.status").describe(route)
  end
  local snoozed = require("tierline.snooze").label(s.snoozed_until)
  if snoozed then
    lines[#lines + 1] = "Snooze  automatic suggestions " .. snoozed .. " (:TierlineSnooze 0 resumes)"
  end
  local today = type(s.today) == "table" and s.today or {}
  local budget = type(s.budget) == "table" and s.budget or {}
  lines[#lines + 1] = ("Today   %s requests   spend %s   all-premium %s   saved %s"):format(
    num(today.requests), money(today.spend_usd), money(today.premium_baseline_usd), pct(today.savings_pct))
  if next(budget) then
    local cap = (type(budget.daily_usd) == "number" and budget.daily_usd > 0) and (("$%.2f/day"):format(budget.daily_usd))
      or "no cap"
    lines[#lines + 1] = ("Budget  %s   spent %s   remaining %s%s"):format(
      cap, money(budget.spent_today_usd), money(budget.remaining_usd), budget.reached and "   REACHED" or "")
  end
  local gateway = require("tierline.status").gateway_line(s.gateway_budget)
  if gateway then
    lines[#lines + 1] = gateway
  end
  lines[#lines + 1] = ("Total   %s requests   %s model calls   %s cache hits   spend %s   all-premium %s   saved %s"):format(
    num(s.requests), num(s.model_calls), num(s.cache_hits), money(s.spend_usd),
    money(s.premium_baseline_usd), pct(s.savings_pct))
  lines[#lines + 1] = ""
  vim.list_extend(lines, table_lines("tier", s.by_tier, TIER_ORDER, TIER_COLUMNS))
  lines[#lines + 1] = ""
  vim.list_extend(lines, table_lines("model", s.by_model, nil, MODEL_COLUMNS))
  vim.list_extend(lines, acceptance_lines(s))
  return lines
end

M.win = nil
M.buf = nil

function M.close()
  if M.win and vim.api.nvim_win_is_valid(M.win) then
    vim.api.nvim_win_close(M.win, true)
  end
  M.win, M.buf = nil, nil
end

--- Open a centred float with `lines`. Returns buf, win.
function M.open_float(lines, title)
  M.close()
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, lines)
  vim.bo[buf].modifiable = false
  vim.bo[buf].bufhidden = "wipe"
  vim.bo[buf].filetype = "tierline_stats"
  local width = 20
  for _, l in ipairs(lines) do
    width = math.max(width, vim.fn.strdisplaywidth(l))
  end
  width = math.min(width + 2, math.max(20, vim.o.columns - 4))
  local height = math.min(#lines, math.max(1, vim.o.lines - 4))
  local win = vim.api.nvim_open_win(buf, true, {
    relative = "editor",
    width = width,
    height = height,
    row = math.max(0, math.floor((vim.o.lines - height) / 2) - 1),
    col = math.max(0, math.floor((vim.o.columns - width) / 2)),
    style = "minimal",
    border = "rounded",
    title = title and (" " .. title .. " ") or nil,
    title_pos = title and "center" or nil,
  })
  for _, key in ipairs({ "q", "<Esc>" }) do
    vim.keymap.set("n", key, M.close, { buffer = buf, nowait = true, silent = true, desc = "tierline: close" })
  end
  M.buf, M.win = buf, win
  return buf, win
end

--- Fetch `tierline.stats` and show it.
function M.show()
  require("tierline.lsp").execute(require("tierline.wire").CMD_STATS, nil, function(err, result)
    if err or type(result) ~= "table" then
      vim.notify("tierline: stats unavailable: " .. (err and (err.message or vim.inspect(err)) or "no answer"),
        vim.log.levels.WARN)
      return
    end
    require("tierline.status").on_stats(result)
    local status = require("tierline.status")
    M.open_float(M.format(result, status.state.last_route), "tierline stats")
  end)
end

return M
