--- The wire contract as the plugin sees it: a mirror of server/tierline/wire.py (names, enum
--- values, and the facts a `tierline/didRoute` payload implies). status.lua and stats.lua read
--- payloads through here; tests/e2e/test_wire_shapes.py feeds them every shape the server sends.
---
--- didRoute fields: request_id, score (number|vim.NIL: typed-through or excluded), tier (string|vim.NIL:
--- no tier was decided, an excluded file or a refused config; shown as M.tier_label),
--- model (string|vim.NIL: nothing answered), cached, latency_ms, cost_usd, attempts[] {model,
--- outcome, latency_ms, detail?}, reason, excluded, redactions, downshifted (string|vim.NIL),
--- alternatives[] {item_id, tier, model} (every item of an invoked request near a tier boundary; {} for one),
--- uri, position. tierline.stats adds `warnings` (string[]: storage faults), `acceptance`
--- (overall and in each by_tier[tier]), `acceptance_by_model` and `acceptance_by_language`
--- ({name: acceptance}).
local M = {}

M.TIER = { CHEAP = "cheap", MID = "mid", PREMIUM = "premium" }
M.TIERS = { "cheap", "mid", "premium" }

M.OUTCOME = {
  OK = "ok",
  TIMEOUT = "timeout",
  RATE_LIMITED = "rate_limited",
  SERVER_ERROR = "server_error",
  INVALID = "invalid",
  CANCELLED = "cancelled",
  SKIPPED_BUDGET = "skipped_budget",
  REJECTED = "rejected", -- a permanent provider error (400, 401, 402, 403, 404, 413, 422)
}

--- A failed model call: every outcome but these.
M.NOT_FAILURES = { ok = true, cancelled = true, skipped_budget = true }

M.DID_ROUTE = "tierline/didRoute"
M.CMD_EXPLAIN = "tierline.explain"
M.CMD_STATS = "tierline.stats"
M.CMD_ESCALATE = "tierline.escalate"
M.CMD_CLEAR_CACHE = "tierline.clearCache"
M.CMD_ACCEPTED = "tierline.accepted"
M.CMD_SNOOZE = "tierline.snooze"

--- The fields of an `acceptance` (wire.py AcceptanceStats): what became of the completions shown.
--- rate is accepted / shown (0..1); cost_per_accepted_char_usd is vim.NIL before any acceptance.
--- retained is {"30s", "120s", "300s", "600s"}: the share of accepted characters still there (vim.NIL before one).
M.ACCEPTANCE_FIELDS = {
  "shown", "accepted", "rate", "accepted_chars", "retained_chars", "cost_per_accepted_char_usd", "retained",
}
--- tierline.stats' per-model and per-language acceptance tables ({name: acceptance}).
M.ACCEPTANCE_BY = { model = "acceptance_by_model", language = "acceptance_by_language" }

--- LSP MessageType of `window/showMessage`.
M.MESSAGE_ERROR = 1
M.MESSAGE_WARNING = 2

--- JSON null arrives as vim.NIL (or nil); both mean "absent".
---@return any
function M.value(v)
  if v == vim.NIL then
    return nil
  end
  return v
end

--- A string field, or nil when absent / null / not a string.
---@return string?
function M.str(v)
  return type(v) == "string" and v ~= "" and v or nil
end

--- A number field, or nil.
---@return number?
function M.num(v)
  return type(v) == "number" and v or nil
end

function M.is_excluded(route)
  return route.excluded == true
end

--- Typing through the completion shown: served from it, no analysis (score null), no call.
function M.is_typed_through(route)
  return route.cached == true and M.num(route.score) == nil and not M.is_excluded(route)
end

M.NO_TIER = "no tier"

--- What to show in the tier's place: the tier, or "no tier" when none was decided (excluded
--- file, refused config: didRoute's tier is null).
---@return string
function M.tier_label(route)
  return M.str(route.tier) or M.NO_TIER
end

--- The tier the budget moved this request down from, or nil.
---@return string?
function M.downshifted_from(route)
  return M.str(route.downshifted)
end

function M.is_failure(outcome)
  return not M.NOT_FAILURES[outcome]
end

---@return table[]
function M.attempts(route)
  local out = {}
  if type(route.attempts) == "table" then
    for _, a in ipairs(route.attempts) do
      if type(a) == "table" then
        out[#out + 1] = a
      end
    end
  end
  return out
end

--- A `window/showMessage` about a storage fault: the cache or the ledger is not usable and the
--- server works around it. `tierline.stats` `warnings` is the authoritative list.
function M.is_storage_fault(type_, message)
  if type(type_) ~= "number" or type_ > M.MESSAGE_WARNING or type(message) ~= "string" then
    return false
  end
  local lower = message:lower()
  for _, store in ipairs({ "cache", "ledger" }) do
    local s = lower:find(store, 1, true)
    if s then
      local rest = lower:sub(s):match("^[^.;]*")
      if rest:find("not usable", 1, true) or rest:find("not writable", 1, true) then
        return true
      end
    end
  end
  return false
end

return M
