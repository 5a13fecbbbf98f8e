-- The statusline's warning state against the real server: a cache directory that cannot be
-- created is a storage fault; the completion is still served, and the statusline and
-- :TierlineStats say what is wrong.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  -- /dev/null is not a directory: the server cannot create its cache below it.
  local bufnr = H.start({ cmd_env = { XDG_CACHE_HOME = "/dev/null/tierline-cache" } })
  local tierline = require("tierline")

  H.test("the statusline has no warning before anything went wrong", function()
    local s = H.wait(10000, function()
      local v = tierline.statusline()
      return v ~= "" and v or nil
    end, "a statusline")
    H.truthy(not s:find("⚠", 1, true), "statusline " .. s .. " warns")
  end)

  H.test("a storage fault: the completion is served, the statusline warns", function()
    H.type_and_accept(bufnr, "stored = ")
    H.to_normal()
    local s = H.wait(10000, function()
      local v = tierline.statusline()
      return v:sub(1, #"⚠ ") == "⚠ " and v or nil
    end, "the statusline in its warning state")
    H.truthy(s:find(tierline.last_route().tier .. "·" .. tierline.last_route().model, 1, true), "statusline " .. s)
    local reasons = require("tierline.status").reasons()
    H.truthy(#reasons >= 1 and reasons[1]:find("^storage: ") and reasons[1]:find("cache", 1, true),
      "reasons: " .. vim.inspect(reasons))
    local warned = false
    for _, m in ipairs(H.messages) do
      warned = warned or (m.type == 2 and m.message:find("cache", 1, true) ~= nil)
    end
    H.truthy(warned, "the server's warning message: " .. vim.inspect(H.messages))
  end)

  H.test(":TierlineStats lists the storage fault and the last completion", function()
    local win, lines = H.stats_float()
    H.truthy(lines[1]:find("^WARNING storage: tierline: ") and lines[1]:find("cache", 1, true), "first line: " .. lines[1])
    local last = require("tierline.status").describe(tierline.last_route())
    H.truthy(vim.tbl_contains(lines, "Last    " .. last), "a line Last    " .. last)
    vim.api.nvim_win_close(win, true)
  end)
end)
