--- `:TierlineSnooze [minutes]`: automatic suggestions make no model call until then (the server's
--- `tierline.snooze`); asking with the trigger key still answers. The server keeps the snooze for
--- every tierline server of the user and across a restart; `tierline.stats` `snoozed_until` says
--- until when, and the statusline shows it.
local M = {}

--- What the server takes when no minutes are given (VS Code's own snooze default).
M.DEFAULT_MINUTES = 5
M.MAX_MINUTES = 1440

local timer = nil ---@type uv.uv_timer_t?

--- The command's argument as minutes: "" = the default; nil and a message when it is not a number
--- the server would take.
---@param text string?
---@return number?, string?
function M.parse(text)
  text = vim.trim(text or "")
  if text == "" then
    return M.DEFAULT_MINUTES
  end
  local n = tonumber(text)
  if not n or n ~= n or n < 0 or n > M.MAX_MINUTES then
    return nil, ("tierline: :TierlineSnooze takes minutes from 0 (resume) to %d, got %q"):format(M.MAX_MINUTES, text)
  end
  return n
end

--- Epoch seconds of an ISO time in UTC (`2026-12-03T11:45:00Z`), or nil.
---@return number?
function M.epoch(iso)
  if type(iso) ~= "string" then
    return nil
  end
  local y, mo, d, h, mi, s = iso:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)")
  if not y then
    return nil
  end
  local fields = { year = tonumber(y), month = tonumber(mo), day = tonumber(d), hour = tonumber(h), min = tonumber(mi), sec = tonumber(s) }
  -- os.time reads the fields as local time; shift by the local offset from UTC at that moment.
  local as_local = os.time(fields)
  local offset = os.difftime(as_local, os.time(os.date("!*t", as_local) --[[@as osdateparam]]))
  return as_local + offset
end

--- "snoozed until HH:MM" (local time), or nil when `snoozed_until` is not in the future.
---@param snoozed_until any ISO time, vim.NIL or nil
---@param now? number epoch seconds (default: now)
---@return string?
function M.label(snoozed_until, now)
  local ends = M.epoch(snoozed_until)
  if not ends or ends <= (now or os.time()) then
    return nil
  end
  return "snoozed until " .. os.date("%H:%M", ends)
end

--- Look at the stats again when the snooze ends, so the statusline stops saying it.
function M.watch(snoozed_until, refresh)
  if timer then
    timer:stop()
    timer:close()
    timer = nil
  end
  local ends = M.epoch(snoozed_until)
  if not ends or ends <= os.time() then
    return
  end
  timer = vim.uv.new_timer()
  timer:start(math.min((ends - os.time() + 1) * 1000, 2 ^ 31 - 1), 0, vim.schedule_wrap(refresh))
end

--- Snooze for `minutes` (0 resumes; nil: the default), then refresh the statusline.
---@param minutes number?
---@param callback? fun(err: table?, result: any)
function M.snooze(minutes, callback)
  local wire = require("tierline.wire")
  return require("tierline.lsp").execute(wire.CMD_SNOOZE, { minutes or M.DEFAULT_MINUTES }, function(err, result)
    if not err and type(result) == "table" then
      require("tierline.status").on_stats({ snoozed_until = result.snoozed_until }, true)
      require("tierline.status").refresh()
    end
    if callback then
      return callback(err, result)
    end
    if err then
      vim.notify("tierline: snooze failed: " .. tostring(err.message), vim.log.levels.ERROR)
    else
      local label = M.label(result and result.snoozed_until)
      vim.notify("tierline: " .. (label and ("automatic suggestions " .. label) or "suggestions resumed"), vim.log.levels.INFO)
    end
  end)
end

--- The keymap: snooze for the default time, or resume when snoozed.
function M.toggle()
  local snoozed = M.label(require("tierline.status").state.snoozed_until) ~= nil
  return M.snooze(snoozed and 0 or M.DEFAULT_MINUTES)
end

return M
