-- Accepting in Neovim reaches the server's acceptance stats under the right tier: <Tab>, word, line, dismiss.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  local bufnr = H.start()

  local routes = H.collect_routes()

  --- Type on a new line, wait for the ghost text and its didRoute; returns ghost, route.
  local function suggestion(typed)
    local before = #routes
    H.new_line(bufnr)
    H.feed(typed)
    local ghost = H.wait_ghost(bufnr)
    local route = H.wait(5000, function()
      return #routes > before and routes[#routes] or nil
    end, "tierline/didRoute")
    return ghost, route
  end

  H.test("<Tab> accepts: the stats count it accepted under the tier that answered", function()
    local ghost, route = suggestion("accepted = ")
    H.feed("<Tab>")
    local s = H.stats_until(function(s)
      return s.acceptance.accepted == 1
    end, "one acceptance in tierline.stats")
    local tier = s.by_tier[route.tier].acceptance
    H.eq(1, tier.shown, "shown under " .. route.tier)
    H.eq(1, tier.accepted, "accepted under " .. route.tier)
    H.eq(vim.fn.strchars(ghost), tier.accepted_chars, "accepted characters")
    H.truthy(tier.cost_per_accepted_char_usd > 0, "cost per accepted character")
    H.to_normal()
  end)

  H.test("word then line accepts add up as one partially accepted completion", function()
    local before = H.stats().acceptance
    local ghost = suggestion("partial = ")
    H.feed("<M-w>")
    local word = ghost:match("^%s*[%w_]+") or ghost:match("^%s*[^%w_%s]+")
    local s = H.stats_until(function(s)
      return s.acceptance.accepted == before.accepted + 1
    end, "the word accept in tierline.stats")
    H.eq(before.accepted_chars + vim.fn.strchars(word), s.acceptance.accepted_chars, "characters of the word")
    H.feed("<M-l>")
    local after = H.stats_until(function(s)
      return s.acceptance.accepted_chars > before.accepted_chars + vim.fn.strchars(word)
    end, "the line accept in tierline.stats")
    H.eq(before.accepted + 1, after.acceptance.accepted, "still one accepted completion")
    H.eq(before.accepted_chars + vim.fn.strchars(ghost:match("^[^\n]*")), after.acceptance.accepted_chars, "the whole line")
    H.to_normal()
  end)

  H.test("dismissing is shown, not accepted", function()
    local before = H.stats().acceptance
    suggestion("dismissed = ")
    H.feed("<C-]>")
    H.wait(5000, function()
      return H.ghost(bufnr) == nil
    end, "the ghost text gone")
    local s = H.stats_until(function(s)
      return s.acceptance.shown == before.shown + 1
    end, "one more shown")
    H.eq(before.accepted, s.acceptance.accepted, "nothing more accepted")
    H.to_normal()
  end)

  H.test(":TierlineStats shows the acceptance per tier, model and language", function()
    local s = H.stats()
    local win, lines = H.stats_float()
    local text = "\n" .. table.concat(lines, "\n") .. "\n"
    --- The row `name  shown  accepted  rate%  accepted_chars` of an acceptance.
    local function shows(name, a, what)
      local row = ("\n%s%%s+%d%%s+%d%%s+%d%%%%%%s+%d%%s"):format(
        vim.pesc(name), a.shown, a.accepted, math.floor(a.rate * 100 + 0.5), a.accepted_chars)
      H.truthy(text:find(row), what .. " row for " .. name .. ": " .. row)
    end
    H.truthy(text:find("\naccepted by tier ", 1, true), "an 'accepted by tier' table")
    for tier, row in pairs(s.by_tier) do
      shows(tier, row.acceptance, "tier")
    end
    for model, a in pairs(s.acceptance_by_model) do
      shows(model, a, "model")
    end
    shows("python", s.acceptance_by_language.python, "language")
    H.truthy(s.acceptance.accepted >= 2, "the accepts above are counted")
    H.close_with_q(win)
  end)

  H.no_server_errors()
end)
