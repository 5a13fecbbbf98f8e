--- User commands.
local M = {}

function M.create()
  local cmd = vim.api.nvim_create_user_command
  cmd("TierlineEscalate", function()
    require("tierline").escalate()
  end, { desc = "tierline: send the next completion request to the premium tier" })
  cmd("TierlineStats", function()
    require("tierline").show_stats()
  end, { desc = "tierline: requests, spend and savings (floating window)" })
  cmd("TierlineExplain", function()
    require("tierline").explain()
  end, { desc = "tierline: features, score and tier at the cursor" })
  cmd("TierlineClearCache", function()
    require("tierline").clear_cache()
  end, { desc = "tierline: drop cached answers" })
  cmd("TierlineToggle", function()
    require("tierline").set_auto_trigger()
  end, { desc = "tierline: automatic suggestions on/off" })
  cmd("TierlineTrust", function(opts)
    require("tierline.trust").trust(opts.args)
  end, { nargs = "?", complete = "dir", desc = "tierline: trust this workspace's .tierline.toml (models, dirs)" })
end

return M
