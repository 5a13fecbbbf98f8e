-- :TierlineTrust records the workspace's .tierline.toml (by content) in tierline's trust store and
-- restarts the server so the trusted file applies.
local H = dofile(vim.fs.joinpath(os.getenv("TIERLINE_SPEC_DIR"), "helpers.lua"))

H.run(function()
  local bufnr, client = H.start()
  local root = vim.fs.dirname(vim.api.nvim_buf_get_name(bufnr))
  local workspace_file = vim.fs.joinpath(root, ".tierline.toml")
  vim.fn.writefile({ "[completion]", "max_tokens = 64" }, workspace_file)
  local store = vim.fs.joinpath(os.getenv("XDG_STATE_HOME"), "tierline", "trust.json")

  H.test(":TierlineTrust trusts the workspace file and restarts the server", function()
    local done
    require("tierline.trust").trust(nil, function(ok, output)
      done = { ok = ok, output = output }
    end)
    H.wait(20000, function()
      return done
    end, "tierline trust to finish")
    H.truthy(done.ok, "tierline trust succeeded: " .. tostring(done.output))
    local trusted = vim.json.decode(table.concat(vim.fn.readfile(store), "\n")).trusted
    local resolved = vim.uv.fs_realpath(workspace_file)
    H.truthy(trusted[resolved], "the store holds " .. resolved)
    H.wait_client(bufnr, "a new server attached", client)
  end)

  H.test("the command exists with a directory argument", function()
    local commands = vim.api.nvim_get_commands({})
    H.truthy(commands.TierlineTrust, ":TierlineTrust is defined")
    H.eq("?", commands.TierlineTrust.nargs, "nargs")
  end)
end)
