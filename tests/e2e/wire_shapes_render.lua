-- Feeds every wire shape in $TIERLINE_WIRE_SHAPES (written by tests/e2e/test_wire_shapes.py) to the
-- Neovim plugin's statusline (tierline.status) and stats window (tierline.stats) code, the way
-- the LSP handlers do, and checks what a user would read. Prints `ok - ...` / `not ok - ...`
-- and a `# N passed, M failed` summary; exits non-zero on any failure.
--
--   nvim --headless -u NONE -l tests/e2e/wire_shapes_render.lua
vim.opt.rtp:prepend(assert(os.getenv("TIERLINE_PLUGIN"), "TIERLINE_PLUGIN is not set"))
local path = assert(os.getenv("TIERLINE_WIRE_SHAPES"), "TIERLINE_WIRE_SHAPES is not set")
local file = assert(io.open(path, "r"))
-- As the LSP client decodes it: JSON null becomes vim.NIL.
local data = vim.json.decode(file:read("*a"))
file:close()

-- Shapes arrive only while a tierline client runs: the statusline shows itself then.
vim.lsp.get_clients = function()
  return { { name = "tierline" } }
end

-- The TAP harness beside this script.
local tap = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "lua_tap.lua")
local out, test = tap.out, tap.test

local function has(text, needle, what)
  if not text:find(needle, 1, true) then
    error(("%s %q does not show %q"):format(what, text, needle), 2)
  end
end

--- A fresh status module: no state carried from one shape to the next.
local function fresh_status()
  package.loaded["tierline.status"] = nil
  package.loaded["tierline.stats"] = nil
  local status = require("tierline.status")
  status.refresh = function() end -- no server here: the stats come from the shape
  return status, require("tierline.stats")
end

for _, case in ipairs(data.routes) do
  test(("%s: statusline and stats window"):format(case.name), function()
    local status, stats = fresh_status()
    local route = case.route
    status.on_route(route, nil) -- then the plugin asks for tierline.stats, as after every didRoute
    if type(case.stats) == "table" then
      status.on_stats(case.stats)
    end
    local line = status.render()
    out("#   statusline: " .. line)
    for _, fact in ipairs(case.facts) do
      has(line, fact, "statusline")
    end
    local model = route.model ~= vim.NIL and route.model or "no model"
    has(line, require("tierline.wire").tier_label(route) .. "·" .. model, "statusline")
    local warned = line:sub(1, #"⚠ ") == "⚠ "
    if warned ~= case.warning then
      error(("statusline %q: warning state %s, expected %s (reasons: %s)"):format(
        line, tostring(warned), tostring(case.warning), vim.inspect(status.reasons())))
    end
    local described = status.describe(route)
    out("#   last: " .. described)
    for _, fact in ipairs(case.facts) do
      has(described, fact, "last-completion line")
    end
    has(described, status.money(route.cost_usd), "last-completion line (cost)")
    if route.score == vim.NIL then
      has(described, "score n/a", "last-completion line")
    end
    local lines = stats.format(type(case.stats) == "table" and case.stats or {}, route)
    has(table.concat(lines, "\n"), "Last    " .. described, "stats window")
  end)
end

for _, case in ipairs(data.stats) do
  test(("%s: statusline warning state and stats window"):format(case.name), function()
    local status, stats = fresh_status()
    status.on_stats(case.stats)
    local line = status.render()
    local warned = line:sub(1, #"⚠ ") == "⚠ "
    if warned ~= case.warning then
      error(("statusline %q: warning state %s, expected %s"):format(line, tostring(warned), tostring(case.warning)))
    end
    local text = table.concat(stats.format(case.stats), "\n")
    out("#   " .. text:gsub("\n", "\n#   "))
    local warnings = type(case.stats.warnings) == "table" and case.stats.warnings or {}
    for _, w in ipairs(warnings) do
      has(text, "WARNING storage: " .. w, "stats window")
    end
    for model in pairs(case.set_aside) do
      local row
      for _, l in ipairs(vim.split(text, "\n")) do
        if l:sub(1, #model + 1) == model .. " " then
          row = l
        end
      end
      if not row or not row:find("rejected", 1, true) then
        error(("stats window has no row saying %s is rejected:\n%s"):format(model, text))
      end
    end
    has(text, "Today", "stats window")
  end)
end

for _, case in ipairs(data.messages) do
  test(("window/showMessage %q: storage warning %s"):format(case.message:sub(1, 40), tostring(case.storage)), function()
    local status = fresh_status()
    status.on_route({ tier = "cheap", model = "m", cached = false, attempts = {}, score = 0.1, cost_usd = 0 }, nil)
    status.on_message({ type = case.type, message = case.message }, nil)
    local line = status.render()
    local warned = line:sub(1, #"⚠ ") == "⚠ "
    if warned ~= case.storage then
      error(("statusline %q after %q: warning state %s, expected %s"):format(
        line, case.message, tostring(warned), tostring(case.storage)))
    end
  end)
end

tap.finish()
