-- `:TierlineStats` shows acceptance: feeds a real server's `tierline.stats` answer (written by
-- tests/e2e/test_acceptance_shown.py to $TIERLINE_ACCEPTANCE_STATS) to the plugin's stats window code
-- and checks each expected row: name, shown, accepted, rate, accepted chars, retained chars, cost
-- per accepted character. Also dumps the wire mirror (ACCEPTANCE_FIELDS, ACCEPTANCE_BY) for the
-- Python side. Prints `ok - ...` / `not ok - ...`, the window's lines as `# ...`, and a
-- `# N passed, M failed` summary; exits non-zero on any failure.
--
--   nvim --headless -u NONE -l tests/e2e/acceptance_stats_render.lua
vim.opt.rtp:prepend(assert(os.getenv("TIERLINE_PLUGIN"), "TIERLINE_PLUGIN is not set"))
local path = assert(os.getenv("TIERLINE_ACCEPTANCE_STATS"), "TIERLINE_ACCEPTANCE_STATS is not set")
local file = assert(io.open(path, "r"))
local data = vim.json.decode(file:read("*a")) -- JSON null becomes vim.NIL, as in the LSP client
file:close()

-- The TAP harness beside this script.
local tap = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "lua_tap.lua")
local out, test = tap.out, tap.test

local lines = require("tierline.stats").format(data.stats, nil)
for _, line in ipairs(lines) do
  out("# | " .. line)
end

--- The whitespace-separated words of the first line after the `title` header whose first word is `name`.
local function row(title, name)
  local inside = false
  for _, line in ipairs(lines) do
    if vim.startswith(line, title .. " ") then
      inside = true
    elseif inside and line == "" then
      break
    elseif inside then
      local words = vim.split(vim.trim(line), "%s+")
      if words[1] == name then
        return words
      end
    end
  end
  error(("no row %q under %q in the stats window"):format(name, title), 2)
end

for _, case in ipairs(data.expected_rows) do
  test(("%s %s: %s"):format(case.title, case.name, table.concat(case.cells, " ")), function()
    local words = row(case.title, case.name)
    local want = vim.list_extend({ case.name }, case.cells)
    if not vim.deep_equal(words, want) then
      error(("row %s, want %s"):format(table.concat(words, " "), table.concat(want, " ")))
    end
  end)
end

test("overall line", function()
  local found = vim.tbl_filter(function(l)
    return vim.startswith(l, "Accepted  ")
  end, lines)
  if found[1] ~= data.expected_overall then
    error(("overall %q, want %q"):format(tostring(found[1]), data.expected_overall))
  end
end)

test("retention line", function()
  local found = vim.tbl_filter(function(l)
    return vim.startswith(l, "Retained  ")
  end, lines)
  if found[1] ~= data.expected_retained then
    error(("retained %q, want %q"):format(tostring(found[1]), data.expected_retained))
  end
end)

test("nothing shown yet", function()
  local empty = require("tierline.stats").format(vim.tbl_extend("force", data.stats, { acceptance = data.empty }), nil)
  if not vim.tbl_contains(empty, "Accepted  no completions shown yet") then
    error("no 'no completions shown yet' line: " .. table.concat(empty, "\n"))
  end
end)

test("an older server without acceptance: no acceptance lines, no error", function()
  local older = vim.deepcopy(data.stats)
  older.acceptance, older.acceptance_by_model, older.acceptance_by_language = nil, nil, nil
  for _, line in ipairs(require("tierline.stats").format(older, nil)) do
    if line:find("ccepted", 1, true) then
      error("acceptance shown for a server that sent none: " .. line)
    end
  end
end)

local wire = require("tierline.wire")
out("# mirror " .. vim.json.encode({ fields = wire.ACCEPTANCE_FIELDS, by = wire.ACCEPTANCE_BY }))
tap.finish()
