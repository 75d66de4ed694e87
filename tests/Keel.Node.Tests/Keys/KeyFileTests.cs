using System.Text.Json.Nodes;
using Keel.Node.Keys;

namespace Keel.Node.Tests.Keys;

public class KeyFileTests
{
    [Fact]
    public void Unknown_fields_survive_a_load_and_save()
    {
        var directory = Directory.CreateTempSubdirectory("keel-keyfile-test-").FullName;
        try
        {
            var path = Path.Combine(directory, "k.json");
            File.WriteAllText(path, "{\"version\":1,\"secp256k1\":\"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\",\"ed25519\":\"0xabcd\"}");
            var key = KeyFile.Load(path);
            Assert.Equal("0xabcd", (string)key.OtherFields["ed25519"]!);
            key.Save(path, overwrite: true);
            var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            Assert.Equal("0xabcd", (string)json["ed25519"]!);
            Assert.Equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", KeyFile.Load(path).Address.ToString());
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Saving_into_a_missing_directory_fails_clearly()
    {
        var error = Assert.Throws<KeyFileException>(() => KeyFile.Generate().Save(Path.Combine(Path.GetTempPath(), "keel-no-such-dir-" + Guid.NewGuid(), "k.json")));
        Assert.Contains("does not exist", error.Message);
    }
}
