-- :TierlineEscalate routes the next request to premium; :TierlineStats shows the numbers.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  -- Server settings from setup() reach the server (initializationOptions / didChangeConfiguration).
  local bufnr = H.start({ settings = { budget = { daily_usd = 4.5 } }, keymaps = { escalate = "<M-e>" } })
  local tierline = require("tierline")

  local routes = H.collect_routes()
  local escalated = 0
  vim.api.nvim_create_autocmd("User", {
    pattern = "TierlineEscalated",
    callback = function()
      escalated = escalated + 1
    end,
  })

  H.test("a first completion before escalating", function()
    H.type_and_accept(bufnr, "first = ")
    H.wait(5000, function()
      return #routes >= 1
    end, "tierline/didRoute")
    H.to_normal()
  end)

  H.test(":TierlineEscalate sends the next request to premium (claude-opus)", function()
    vim.cmd("TierlineEscalate")
    H.wait(10000, function()
      return escalated == 1
    end, "the server to acknowledge tierline.escalate")
    local before = #routes
    local row = H.new_line(bufnr)
    H.feed("premium = ")
    local route = H.wait(15000, function()
      for i = before + 1, #routes do
        if routes[i].position and routes[i].position.line == row and routes[i].position.character == #"premium = " then
          return routes[i]
        end
      end
    end, "tierline/didRoute for the escalated request")
    H.eq("premium", route.tier, "didRoute.tier")
    H.eq("claude-opus", route.model, "didRoute.model")
    H.eq("table", type(route.attempts), "didRoute.attempts")
    H.eq("number", type(route.cost_usd), "didRoute.cost_usd")
    local ghost = H.wait_ghost(bufnr, "tl_claude_opus")
    H.feed("<Tab>")
    H.wait_line(bufnr, row, "premium = " .. ghost, "the premium suggestion inserted")
    H.truthy(H.line(bufnr, row):find("tl_claude_opus", 1, true), "inserted text has the opus tag")
    local status = H.wait(5000, function()
      local s = tierline.statusline()
      return s:match("^premium·claude%-opus %$%d+%.%d%d%d%d$") and s or nil
    end, "statusline premium·claude-opus $x.xxxx")
    H.truthy(status, "statusline")
    H.to_normal()
  end)

  H.test("the escalate key in Insert mode asks the premium tier at the cursor", function()
    local before = #routes
    local acks = escalated
    local row = H.new_line(bufnr)
    H.feed("again = <M-e>")
    H.wait(10000, function()
      return escalated == acks + 1
    end, "the server to acknowledge tierline.escalate")
    local route = H.wait(15000, function()
      for i = before + 1, #routes do
        local r = routes[i]
        if r.tier == "premium" and r.position.line == row and r.position.character == #"again = " then
          return r
        end
      end
    end, "a premium tierline/didRoute at the cursor")
    H.eq("claude-opus", route.model, "didRoute.model")
    H.to_normal()
  end)

  H.test(":TierlineStats opens a float with the numbers", function()
    local stats = H.stats()
    H.truthy(type(stats.requests) == "number" and stats.requests >= 3, "stats.requests >= 3: " .. vim.inspect(stats.requests))
    H.truthy(type(stats.by_model) == "table" and stats.by_model["claude-opus"], "stats.by_model has claude-opus")
    H.eq(4.5, stats.budget and stats.budget.daily_usd, "budget.daily_usd from setup({ settings })")
    local win, lines = H.stats_float()
    local text = table.concat(lines, "\n")
    H.truthy(text:find("Today", 1, true), "float has the Today row")
    H.truthy(text:find("Total", 1, true), "float has the Total row")
    H.truthy(text:find("$4.50/day", 1, true), "float shows the budget from settings")
    H.truthy(text:find("premium", 1, true), "float has the premium tier row")
    H.truthy(text:find("claude-opus", 1, true), "float has the claude-opus model row")
    H.truthy(text:find(("spend $%.4f"):format(stats.spend_usd), 1, true), "float shows total spend " .. stats.spend_usd)
    H.truthy(text:find(("Total   %d requests"):format(stats.requests), 1, true), "float shows the request count")
    -- q closes it
    H.close_with_q(win)
  end)

  H.test(":TierlineExplain shows score, tier and features for the cursor", function()
    vim.api.nvim_win_set_cursor(0, { 10, 8 })
    local win, lines = H.float("TierlineExplain", "the explain float")
    local text = table.concat(lines, "\n")
    H.truthy(text:match("^score %d%.%d%d%d  →  %a+"), "first line: " .. text:sub(1, 60))
    H.truthy(text:find("nesting_depth", 1, true) and text:find("language", 1, true), "features listed")
    vim.api.nvim_win_close(win, true)
  end)

  H.test("the server showed no error message", function()
    H.no_server_errors()
  end)
end)
