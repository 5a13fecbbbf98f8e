-- Feeds the `tierline.stats` answers in $TIERLINE_GATEWAY_STATS (a JSON list the server produced,
-- written by tests/e2e/test_gateway_budget.py) to the Neovim plugin's statusline (tierline.status) and
-- stats window (tierline.stats) code, and prints what a user reads: `statusline: ...` and
-- `stats: ...` lines per answer, for the Python test to check.
vim.opt.rtp:prepend(assert(os.getenv("TIERLINE_PLUGIN"), "TIERLINE_PLUGIN is not set"))
local file = assert(io.open(assert(os.getenv("TIERLINE_GATEWAY_STATS")), "r"))
local answers = vim.json.decode(file:read("*a")) -- JSON null becomes vim.NIL, as in the LSP client
file:close()
vim.lsp.get_clients = function()
  return { { name = "tierline" } }
end
local tap = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "lua_tap.lua")
for i, stats in ipairs(answers) do
  tap.test(("answer %d renders"):format(i), function()
    package.loaded["tierline.status"] = nil
    package.loaded["tierline.stats"] = nil
    local status = require("tierline.status")
    status.refresh = function() end
    status.on_stats(stats)
    tap.out(("statusline %d: %s"):format(i, status.render()))
    for _, line in ipairs(require("tierline.stats").format(stats, nil)) do
      if line:find("^Gateway") then
        tap.out(("stats %d: %s"):format(i, line))
      end
    end
    tap.out(("reasons %d: %s"):format(i, table.concat(status.reasons(), "; ")))
  end)
end
tap.finish()
