-- A request that reached no tier, against the real server: in an excluded file nothing is sent,
-- didRoute's tier is null, and the statusline and :TierlineStats say "no tier" and "excluded"
-- (never a tier), with no Lua error.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  H.start({ settings = { privacy = { exclude = { "**/private/**" } } } })
  local tierline = require("tierline")
  local dir = vim.fs.joinpath(vim.fn.fnamemodify(os.getenv("TIERLINE_TEST_FILE"), ":h"), "private")
  vim.fn.mkdir(dir, "p")
  local path = vim.fs.joinpath(dir, "notes.py")
  vim.fn.writefile({ "def add(a, b):", "    return a + b" }, path)
  vim.cmd.edit(vim.fn.fnameescape(path))
  local bufnr = vim.api.nvim_get_current_buf()
  H.wait(20000, function()
    return #vim.lsp.get_clients({ bufnr = bufnr, name = "tierline" }) > 0
  end, "the server attached to the excluded file")

  H.test("an excluded file's request: tier null, the statusline shows no tier and excluded", function()
    H.new_line(bufnr)
    H.feed("total = ")
    local route = H.wait(15000, function()
      local r = tierline.last_route()
      return r and r.excluded == true and r or nil
    end, "didRoute for the excluded file")
    -- JSON null: nil as Neovim's LSP client decodes it (vim.NIL through vim.json.decode).
    H.truthy(route.tier == nil or route.tier == vim.NIL, "didRoute tier " .. vim.inspect(route.tier) .. " is null")
    local s = H.wait(5000, function()
      local v = tierline.statusline()
      return v:find("no tier·no model", 1, true) and v or nil
    end, "the statusline saying no tier")
    H.out("# statusline: " .. s)
    H.truthy(s:find("excluded", 1, true), "statusline " .. s .. " says excluded")
    H.to_normal()
  end)

  H.test(":TierlineStats shows the last request without a tier", function()
    local win, lines = H.stats_float()
    local last = require("tierline.status").describe(tierline.last_route())
    H.truthy(last:find("^no tier · no model") and last:find("excluded (nothing sent)", 1, true), last)
    H.truthy(vim.tbl_contains(lines, "Last    " .. last), "a line Last    " .. last)
    vim.api.nvim_win_close(win, true)
    H.no_server_errors()
  end)
end)
