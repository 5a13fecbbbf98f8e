-- Alternatives: with nothing shown <M-]> asks (trigger kind Invoked) and shows the first item; near
-- a tier boundary the server gives the cheap and premium answers beside the chosen tier's, and
-- <M-]> / <M-[> cycle through them; <Tab> accepts the item shown, counted under that item's tier.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  local bufnr = H.start()
  local options = require("tierline.config").options
  local routes = H.collect_routes()

  H.test("<M-]> asks, then cycles to the second item and <M-[> back; <Tab> accepts the one shown under its tier", function()
    options.auto_trigger = false -- only the keymap asks
    -- The first line of a function body: a score close to the mid threshold (0.32 against 0.35).
    local row = H.new_line(bufnr) + 1
    H.feed("def total(values):<CR>")
    H.wait_line(bufnr, row, "", "the new line of the body")
    local before = #routes
    H.eq("tierline: show the next alternative", vim.fn.maparg("<M-]>", "i", false, true).desc, "<M-]> mapped")
    H.feed("<M-]>")
    local route = H.wait(15000, function()
      return #routes > before and routes[#routes] or nil
    end, "tierline/didRoute")
    H.truthy(type(route.alternatives) == "table" and #route.alternatives >= 2,
      "alternatives in didRoute (score " .. tostring(route.score) .. "): " .. vim.inspect(route.alternatives))
    local first = H.wait_ghost(bufnr) -- nothing was shown: the first item (the chosen tier's)
    H.feed("<M-]>")
    local second = H.wait(5000, function()
      local g = H.ghost(bufnr)
      return g and g ~= first and g or nil
    end, "the second item after <M-]>")
    H.truthy(second:find("tl_", 1, true), "the second item is an answer: " .. second)
    H.feed("<M-[>")
    H.wait(5000, function()
      return H.ghost(bufnr) == first
    end, "the first item again after <M-[>")
    H.feed("<M-]>")
    H.wait(5000, function()
      return H.ghost(bufnr) == second
    end, "the second item again after <M-]>")
    H.feed("<Tab>")
    H.wait_line(bufnr, row, second, "the second item inserted")
    local tier = route.alternatives[2].tier
    local s = H.stats_until(function(s)
      return s.acceptance.accepted == 1
    end, "one acceptance")
    local seen = vim.inspect({ route = route.alternatives, by_tier = vim.tbl_map(function(t)
      return t.acceptance
    end, s.by_tier) })
    H.eq(1, s.by_tier[tier].acceptance.accepted, "accepted under " .. tier .. " (the second item's tier) " .. seen)
    H.eq(0, s.by_tier[route.tier].acceptance.accepted, "nothing accepted under " .. route.tier .. " (the first item's)")
    options.auto_trigger = true
  end)

  H.no_server_errors()
end)
